"""`motcua sign / verify / pki / trust-services` as a user runs them."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from signing import TestPki, TrustServices, testpki
from signing.samples import write_result_pdf
from tests.signing.signing_cli_runner import run_motcua


@pytest.fixture
def p12_password(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MOTCUA_P12_PASSWORD", pki.p12_password)
    return pki.p12_password


def test_leader_then_organization_via_cli_and_verify_json(
    pki: TestPki,
    services: TrustServices,
    p12_password: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = write_result_pdf(tmp_path / "result.pdf")
    run = run_motcua(
        capsys,
        "sign",
        str(source),
        "-o",
        str(tmp_path / "leader.pdf"),
        "--p12",
        str(pki.p12("leader")),
        "--role",
        "leader",
        "--signer-name",
        "Nguyễn Văn An",
        "--signer-title",
        "Chủ tịch",
        "--organization",
        "UBND xã Hòa Phú",
        "--signature-image",
        str(pki.signature_image),
        "--seal-image",
        str(pki.seal_image),
        "--level",
        "B-LTA",
        "--tsa",
        pki.tsa_url,
        "--trust",
        str(pki.root_cert),
        "--certify",
    )
    assert run.code == 0, run.err
    run = run_motcua(
        capsys,
        "sign",
        str(tmp_path / "leader.pdf"),
        "-o",
        str(tmp_path / "both.pdf"),
        "--key",
        str(pki.key("organization")),
        "--cert",
        str(pki.cert("organization")),
        "--chain",
        str(pki.chain),
        "--role",
        "organization",
        "--copy-mark",
        "SAO Y",
        "--level",
        "B-LT",
        "--tsa",
        pki.tsa_url,
        "--trust",
        str(pki.root_cert),
    )
    assert run.code == 0, run.err
    run = run_motcua(
        capsys, "verify", str(tmp_path / "both.pdf"), "--trust", str(pki.root_cert), "--json"
    )
    assert run.code == 0, run.out
    report = json.loads(run.out)
    assert report["ok"] is True and report["complete"] is True
    assert set(report) == {"path", "ok", "signatures", "complete", "document_timestamps"}
    # the leader's B-LTA signature closed with a document timestamp; the organisation's is B-LT
    [stamp] = report["document_timestamps"]
    assert (stamp["tsa"], stamp["digest"]) == ("TEST motcua Time Stamping Authority", "sha256")
    assert stamp["time"] and stamp["tsa_not_after"] > stamp["time"]
    expected_keys = {
        "field",
        "signer",
        "signing_time",
        "timestamp_time",
        "intact",
        "valid",
        "trusted",
        "coverage",
        "modification_level",
        "level",
        "role",
        "revocation",
        "revocation_skipped",
        "certificate_sha256",
        "account",
        "errors",
    }
    assert all(set(sig) == expected_keys for sig in report["signatures"])
    levels = {sig["role"]: sig["level"] for sig in report["signatures"]}
    assert levels == {"leader": "B-LTA", "organization": "B-LT"}

    # human output is Vietnamese
    run = run_motcua(capsys, "verify", str(tmp_path / "both.pdf"), "--trust", str(pki.root_cert))
    assert run.code == 0 and "HỢP LỆ" in run.out and "Đủ chữ ký lãnh đạo và cơ quan: có" in run.out


def test_verify_exit_codes_untrusted_and_unreadable(
    pki: TestPki,
    services: TrustServices,
    p12_password: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = write_result_pdf(tmp_path / "result.pdf")
    signed = tmp_path / "signed.pdf"
    assert (
        run_motcua(
            capsys, "sign", str(source), "-o", str(signed), "--p12", str(pki.p12("leader"))
        ).code
        == 0
    )
    assert run_motcua(capsys, "verify", str(signed), "--trust", str(pki.root_cert)).code == 0
    run = run_motcua(capsys, "verify", str(signed), "--json")  # no trust anchor given
    assert run.code == 1 and json.loads(run.out)["signatures"][0]["trusted"] is False
    future = (pki.not_after("leader").replace(microsecond=0)).isoformat().replace("+00:00", "Z")
    run = run_motcua(
        capsys,
        "verify",
        str(signed),
        "--trust",
        str(pki.root_cert),
        "--at",
        future.replace("Z", "+00:00"),
    )
    assert run.code == 1
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n not really")
    run = run_motcua(capsys, "verify", str(garbage))
    assert run.code == 2 and "garbage.pdf" in run.err and "Traceback" not in run.err
    run = run_motcua(capsys, "verify", str(tmp_path / "absent.pdf"))
    assert run.code == 2
    run = run_motcua(capsys, "verify", str(signed), "--at", "next tuesday")
    assert run.code == 2


def test_batch_signs_every_pdf_once_loaded_and_reports_bad_files(
    pki: TestPki, p12_password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        write_result_pdf(folder / f"result-{n}.pdf")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\ntruncated")
    (folder / "notes.txt").write_text("not a pdf", encoding="utf-8")
    run = run_motcua(
        capsys,
        "sign",
        "--batch",
        str(folder),
        "-o",
        str(tmp_path / "out"),
        "--p12",
        str(pki.p12("organization")),
        "--role",
        "organization",
        "--copy-mark",
        "SAO Y",
    )
    assert run.code == 2  # one input failed
    assert "broken.pdf" in run.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "result-0.pdf",
        "result-1.pdf",
        "result-2.pdf",
    ]
    assert "signed 3 of 4" in run.out


def test_secrets_are_never_flags(
    pki: TestPki,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_result_pdf(tmp_path / "result.pdf")
    run = run_motcua(
        capsys,
        "sign",
        str(source),
        "-o",
        str(tmp_path / "o.pdf"),
        "--p12",
        str(pki.p12("leader")),
        "--password",
        pki.p12_password,
    )
    assert run.code == 2 and "--password" in run.err
    monkeypatch.setenv("MOTCUA_P12_PASSWORD", "wrong")
    run = run_motcua(
        capsys, "sign", str(source), "-o", str(tmp_path / "o.pdf"), "--p12", str(pki.p12("leader"))
    )
    assert run.code == 2 and "MOTCUA_P12_PASSWORD" in run.err
    assert pki.p12_password not in run.err


def test_pki_init_and_background_trust_services(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pki"
    run = run_motcua(capsys, "pki", "init", str(folder))
    assert run.code == 0, run.err
    assert "TEST" in run.out
    created = testpki.load(folder)
    for path in (
        created.root_cert,
        created.chain,
        created.p12("leader"),
        created.p12("organization"),
        created.signature_image,
        created.seal_image,
        created.cert("tsa"),
        created.cert("ocsp"),
    ):
        assert path.is_file(), path
    assert "TEST MATERIAL" in (folder / "README-TEST-PKI.txt").read_text(encoding="utf-8")
    assert run_motcua(capsys, "pki", "init", str(folder)).code == 2  # never overwrite

    assert run_motcua(capsys, "trust-services", "status", "--pki", str(folder)).code == 1
    run = run_motcua(capsys, "trust-services", "up", "--pki", str(folder))
    try:
        assert run.code == 0, run.err
        crl_url = f"{created.base_url}/motcua-test/crls/interm/latest.crl"
        with urllib.request.urlopen(crl_url, timeout=10) as response:
            assert response.status == 200 and len(response.read()) > 100
        assert run_motcua(capsys, "trust-services", "status", "--pki", str(folder)).code == 0
    finally:
        run = run_motcua(capsys, "trust-services", "down", "--pki", str(folder))
    assert run.code == 0 and "stopped" in run.out
    assert run_motcua(capsys, "trust-services", "status", "--pki", str(folder)).code == 1
