"""Signing benchmark: motcua's batch signing vs a bare pyHanko loop, same key, same run.

On N copies of a 2-page result PDF, with the TEST PKI and its local TSA/OCSP/CRL on 127.0.0.1:
- bare:   one `SimpleSigner` loaded once; per document a `PdfSigner` with the same visible stamp
          style (signature+seal image and Liberation Serif text) built once, PAdES subfilter;
- motcua: `signing.sign_batch` (what `motcua sign --batch` runs): per document it also finds the
          signer's name on the page, builds the Decree 30 appearance and writes the file.
Both write every signed file to disk. Verification: `signing.verify_pdf` vs a bare
`validate_pdf_signature` loop on the signed files. Target: motcua ≥ 0.9 × bare signatures/s.

    .venv/bin/python bench/sign.py [--docs 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from signing import (  # noqa: E402
    Level,
    Role,
    SignatureSpec,
    TrustServices,
    load_pkcs12,
    sign_batch,
    testpki,
    verify_pdf,
)
from signing.appearance import leader_lines, leader_style  # noqa: E402
from signing.samples import write_result_pdf  # noqa: E402


def bare_pyhanko(inputs: list[Path], out_dir: Path, level: Level, pki: testpki.TestPki) -> float:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    started = time.perf_counter()
    signer = signers.SimpleSigner.load_pkcs12(
        str(pki.p12("leader")), passphrase=pki.p12_password.encode()
    )
    style = leader_style(
        leader_lines("Nguyễn Văn An", "Chủ tịch", "UBND xã Hòa Phú", "2026-01-01T00:00:00+07:00"),
        pki.signature_image,
        pki.seal_image,
    )
    long_term = level == Level.B_LTA
    timestamper = HTTPTimeStamper(pki.tsa_url) if long_term else None
    context = (
        ValidationContext(
            trust_roots=[load_cert_from_pemder(str(pki.root_cert))], allow_fetching=True
        )
        if long_term
        else None
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in inputs:
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=long_term,
            use_pades_lta=long_term,
            validation_context=context,
        )
        writer = IncrementalPdfFileWriter(BytesIO(path.read_bytes()), strict=False)
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=timestamper,
            stamp_style=style,
            new_field_spec=fields.SigFieldSpec(
                sig_field_name="Signature1", on_page=1, box=(337, 136, 567, 256)
            ),
        )
        out = pdf_signer.sign_pdf(writer)
        (out_dir / path.name).write_bytes(out.getvalue())
    return time.perf_counter() - started


def motcua_batch(inputs: list[Path], out_dir: Path, level: Level, pki: testpki.TestPki) -> float:
    started = time.perf_counter()
    spec = SignatureSpec(
        role=Role.leader,
        level=level,
        signer_name="Nguyễn Văn An",
        signer_title="Chủ tịch",
        organization="UBND xã Hòa Phú",
        signature_image=pki.signature_image,
        seal_image=pki.seal_image,
        tsa_url=pki.tsa_url if level != Level.B_B else None,
        trust=(pki.root_cert,) if level != Level.B_B else (),
    )
    with load_pkcs12(pki.p12("leader"), pki.p12_password) as signer:
        outcome = sign_batch(inputs, out_dir, spec, signer)
    assert not outcome.failed, outcome.failed
    return time.perf_counter() - started


def bare_verify(paths: list[Path], pki: testpki.TestPki) -> float:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    started = time.perf_counter()
    root = load_cert_from_pemder(str(pki.root_cert))
    interm = load_cert_from_pemder(str(pki.cert("interm")))
    for path in paths:
        with path.open("rb") as handle:
            reader = PdfFileReader(handle, strict=False)
            for sig in reader.embedded_regular_signatures:
                context = ValidationContext(
                    trust_roots=[root], other_certs=[interm], allow_fetching=True
                )
                status = validate_pdf_signature(sig, context)
                assert status.bottom_line, status
    return time.perf_counter() - started


def motcua_verify(paths: list[Path], pki: testpki.TestPki) -> float:
    started = time.perf_counter()
    for path in paths:
        report = verify_pdf(path, trust=[pki.root_cert])
        assert report.ok, report.as_json()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=12, help="documents per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    args, _ = parser.parse_known_args()
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    with tempfile.TemporaryDirectory(prefix="bench-sign-") as tmp:
        work = Path(tmp)
        pki = testpki.init(work / "pki")
        inputs_dir = work / "in"
        inputs_dir.mkdir()
        inputs = [write_result_pdf(inputs_dir / f"result-{n:03d}.pdf") for n in range(args.docs)]
        rows = []
        with TrustServices(pki):
            # warm-up: font cache, imports, first TLS-free HTTP connection
            motcua_batch(inputs[:1], work / "warm", Level.B_LTA, pki)
            bare_pyhanko(inputs[:1], work / "warm-bare", Level.B_LTA, pki)
            for level in (Level.B_B, Level.B_LTA):
                # interleaved rounds, best of each: the 2 cores are shared with other work
                bare_s = ours_s = float("inf")
                for round_ in range(args.rounds):
                    bare_dir, ours_dir = work / f"bare{round_}-{level}", work / f"motcua-{level}"
                    if round_ % 2:
                        ours_s = min(ours_s, motcua_batch(inputs, ours_dir, level, pki))
                        bare_s = min(bare_s, bare_pyhanko(inputs, bare_dir, level, pki))
                    else:
                        bare_s = min(bare_s, bare_pyhanko(inputs, bare_dir, level, pki))
                        ours_s = min(ours_s, motcua_batch(inputs, ours_dir, level, pki))
                rows.append((f"sign {level}", args.docs / bare_s, args.docs / ours_s))
            for level in (Level.B_B, Level.B_LTA):
                signed = sorted((work / f"motcua-{level}").glob("*.pdf"))
                bare_s = bare_verify(signed, pki)
                ours_s = motcua_verify(signed, pki)
                rows.append((f"verify {level}", len(signed) / bare_s, len(signed) / ours_s))

    print(
        f"\n{args.docs} two-page result PDFs per run, 1 key load per batch,"
        f" best of {args.rounds} interleaved rounds for signing (1 round for verification)"
    )
    print(f"{'operation':<14} {'bare pyHanko/s':>15} {'motcua/s':>10} {'ratio':>7}  target")
    failed = False
    for name, bare, ours in rows:
        ratio = ours / bare
        target = ">= 0.90" if name.startswith("sign") else "-"
        ok = ratio >= 0.9 or not name.startswith("sign")
        failed |= not ok
        print(
            f"{name:<14} {bare:>15.2f} {ours:>10.2f} {ratio:>7.2f}  {target}"
            f"{'' if ok else '  MISSED'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
