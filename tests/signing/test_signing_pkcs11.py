"""PKCS#11 signing against a real SoftHSM2 token whose key was generated inside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
from tests.softhsm import SoftToken, softhsm_token

TOKEN = "motcua-test-token"
KEY = "leader-token"
PIN = "246810"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[SoftToken]:
    with softhsm_token(tmp_path_factory.mktemp("softhsm"), pki, label=TOKEN, key_label=KEY,
                       pin=PIN, holder="TEST Phạm Thị Dung (token)") as made:  # fmt: skip
        yield made


def test_token_key_is_not_extractable(token: SoftToken) -> None:
    listing = token.tool("--list-objects", "--type", "privkey")
    assert KEY in listing
    assert "never extractable" in listing or "sensitive" in listing


def test_batch_signs_long_term_with_one_token_session(
    token: SoftToken, pki: TestPki, services: TrustServices, tmp_path: Path
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


def test_wrong_pin_is_a_clear_error(token: SoftToken) -> None:
    with pytest.raises(BadArgumentError) as caught:
        open_pkcs11(token.module, token.label, token.key_label, "000000")
    assert "MOTCUA_PKCS11_PIN" in str(caught.value)


def test_cli_signs_with_token_pin_from_the_environment(
    token: SoftToken,
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
