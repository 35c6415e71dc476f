"""PKCS#11 signing against a real SoftHSM2 token whose key was generated inside it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from motcua.errors import BadArgumentError
from signing import (
    Level,
    Role,
    SignatureSpec,
    TestPki,
    TrustServices,
    open_pkcs11,
    sign_batch,
    verify_pdf,
)
from signing.samples import write_result_pdf
from tests.signing.signing_cli_runner import run_motcua

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN = "motcua-test-token"
KEY = "leader-token"
PIN = "246810"


@dataclass(frozen=True)
class Token:
    module: Path
    label: str
    key_label: str
    pin: str
    cert: Path


def _tool(*args: str) -> str:
    done = subprocess.run(
        ["pkcs11-tool", "--module", str(MODULE), "--token-label", TOKEN, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[Token]:
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\n",
        encoding="utf-8",
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--pin",
            PIN,
            "--so-pin",
            "13579",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    # the private key is generated inside the token and never leaves it
    _tool(
        "--login",
        "--pin",
        PIN,
        "--keypairgen",
        "--key-type",
        "rsa:2048",
        "--label",
        KEY,
        "--id",
        "01",
    )
    public_der = folder / "public.der"
    _tool("--read-object", "--type", "pubkey", "--label", KEY, "-o", str(public_der))
    cert = pki.issue_signer_certificate(
        public_der.read_bytes(), "TEST Phạm Thị Dung (token)", folder / "token-cert.pem"
    )
    cert_der = folder / "token-cert.der"
    subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-outform", "DER", "-out", str(cert_der)],
        check=True,
        timeout=60,
    )
    _tool(
        "--login",
        "--pin",
        PIN,
        "--write-object",
        str(cert_der),
        "--type",
        "cert",
        "--label",
        KEY,
        "--id",
        "01",
    )
    yield Token(module=MODULE, label=TOKEN, key_label=KEY, pin=PIN, cert=cert)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def test_token_key_is_not_extractable(token: Token) -> None:
    listing = _tool("--login", "--pin", PIN, "--list-objects", "--type", "privkey")
    assert KEY in listing
    assert "never extractable" in listing or "sensitive" in listing


def test_batch_signs_long_term_with_one_token_session(
    token: Token, pki: TestPki, services: TrustServices, tmp_path: Path
) -> None:
    inputs = [write_result_pdf(tmp_path / f"result-{n}.pdf") for n in range(3)]
    spec = SignatureSpec(
        role=Role.leader,
        level=Level.B_LTA,
        tsa_url=pki.tsa_url,
        trust=(pki.root_cert,),
        extra_certs=(pki.chain,),
        signature_image=pki.signature_image,
        seal_image=pki.seal_image,
    )
    with open_pkcs11(
        token.module, token.label, token.key_label, token.pin, chain=[pki.chain]
    ) as signer:
        assert signer.common_name == "TEST Phạm Thị Dung (token)"  # certificate from the token
        outcome = sign_batch(inputs, tmp_path / "out", spec, signer)
    assert len(outcome.signed) == 3 and not outcome.failed
    for path in inputs:
        report = verify_pdf(tmp_path / "out" / path.name, trust=[pki.root_cert])
        assert report.ok, report.as_json()
        assert report.signatures[0].level == "B-LTA"
        assert report.signatures[0].signer == "TEST Phạm Thị Dung (token)"


def test_wrong_pin_is_a_clear_error(token: Token) -> None:
    with pytest.raises(BadArgumentError) as caught:
        open_pkcs11(token.module, token.label, token.key_label, "000000")
    assert "MOTCUA_PKCS11_PIN" in str(caught.value)


def test_cli_signs_with_token_pin_from_the_environment(
    token: Token,
    pki: TestPki,
    services: TrustServices,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_result_pdf(tmp_path / "in.pdf")
    monkeypatch.setenv("MOTCUA_PKCS11_PIN", token.pin)
    run = run_motcua(
        capsys,
        "sign",
        str(source),
        "-o",
        str(tmp_path / "out.pdf"),
        "--pkcs11-module",
        str(token.module),
        "--pkcs11-token",
        token.label,
        "--pkcs11-key",
        token.key_label,
        "--chain",
        str(pki.chain),
        "--level",
        "B-T",
        "--tsa",
        pki.tsa_url,
    )
    assert run.code == 0, run.err
    run = run_motcua(
        capsys, "verify", str(tmp_path / "out.pdf"), "--trust", str(pki.root_cert), "--json"
    )
    assert run.code == 0, run.out
    assert json.loads(run.out)["signatures"][0]["level"] == "B-T"
    # without the PIN variable (and no terminal to prompt on) the token refuses
    monkeypatch.delenv("MOTCUA_PKCS11_PIN")
    run = run_motcua(
        capsys,
        "sign",
        str(source),
        "-o",
        str(tmp_path / "out2.pdf"),
        "--pkcs11-module",
        str(token.module),
        "--pkcs11-token",
        token.label,
        "--pkcs11-key",
        token.key_label,
    )
    assert run.code == 2 and "MOTCUA_PKCS11_PIN" in run.err
    assert not (tmp_path / "out2.pdf").exists()
