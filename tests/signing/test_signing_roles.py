"""Issue 13, item 5: a signature's role is its certificate's, not its field name's. One
certificate in both fields is not "đủ chữ ký lãnh đạo và cơ quan"; with the office's binding
(`motcua signers bind`), a bound certificate in the other role's field is a mismatch and an
unbound one fills no role. Real TEST certificates, the real OCSP/CRL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.signing_keys import check_signer_account
from motcua.errors import BadArgumentError, CheckFailedError
from signing import (
    LoadedSigner,
    Role,
    SignatureSpec,
    TestPki,
    TrustServices,
    load_certificates,
    sign_pdf,
    verify_pdf,
)
from signing.roles import CertificateRoles, load_roles
from tests.signing.signing_cli_runner import run_motcua


def _both(pdf: bytes, leader_signer: LoadedSigner, organization_signer: LoadedSigner) -> bytes:
    _, once = sign_pdf(pdf, None, SignatureSpec(role=Role.leader), leader_signer)
    _, twice = sign_pdf(once, None, SignatureSpec(role=Role.organization), organization_signer)
    return twice


def _roles(pki: TestPki) -> CertificateRoles:
    return (
        CertificateRoles()
        .bind("leader", load_certificates([pki.cert("leader")]), "an")
        .bind("organization", load_certificates([pki.cert("organization")]))
    )


def test_one_certificate_in_both_fields_is_not_complete(
    pki: TestPki,
    services: TrustServices,
    organization: LoadedSigner,
    leader: LoadedSigner,
    unsigned_pdf: bytes,
) -> None:
    trust = [pki.root_cert]
    same = verify_pdf(_both(unsigned_pdf, organization, organization), trust=trust)
    assert same.ok and not same.complete  # each signature is valid; the pair is not two people
    assert any("cả vai trò lãnh đạo và cơ quan" in e for e in same.errors)
    proper = verify_pdf(_both(unsigned_pdf, leader, organization), trust=trust)
    assert proper.ok and proper.complete and not proper.errors


def test_with_a_binding_the_certificate_decides_the_role(
    pki: TestPki,
    services: TrustServices,
    organization: LoadedSigner,
    leader: LoadedSigner,
    unsigned_pdf: bytes,
) -> None:
    trust, roles = [pki.root_cert], _roles(pki)
    proper = verify_pdf(_both(unsigned_pdf, leader, organization), trust=trust, roles=roles)
    assert proper.ok and proper.complete
    found = [(s.role, s.account) for s in proper.signatures]
    assert found == [("leader", "an"), ("organization", None)]

    swapped = verify_pdf(_both(unsigned_pdf, organization, leader), trust=trust, roles=roles)
    assert not swapped.ok and not swapped.complete
    assert all(s.role_mismatch for s in swapped.signatures)
    assert any("field/certificate role mismatch" in e for s in swapped.signatures for e in s.errors)

    only_leader = CertificateRoles().bind("leader", load_certificates([pki.cert("leader")]))
    unbound = verify_pdf(_both(unsigned_pdf, leader, organization), trust=trust,
                         roles=only_leader)  # fmt: skip
    assert not unbound.complete  # the organisation's certificate is bound to nothing
    assert unbound.signatures[1].role == "unknown" and unbound.signatures[1].errors


def test_a_certificate_holds_one_role_and_a_leader_key_signs_for_its_account(
    pki: TestPki,
) -> None:
    roles = _roles(pki)
    with pytest.raises(BadArgumentError, match="cả hai vai trò"):
        roles.bind("organization", load_certificates([pki.cert("leader")]))
    with pytest.raises(CheckFailedError, match="tài khoản an"):
        check_signer_account("TEST Nguyễn Văn An", "an", "user:minh")
    check_signer_account("TEST Nguyễn Văn An", "an", "user:an")
    check_signer_account("TEST Nguyễn Văn An", "an", "cli:root")  # the CLI's operator


def test_cli_bind_then_verify_reports_the_mismatch(
    pki: TestPki,
    services: TrustServices,
    organization: LoadedSigner,
    leader: LoadedSigner,
    unsigned_pdf: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MOTCUA_HOME", str(home))
    monkeypatch.setenv("MOTCUA_CONFIG", str(tmp_path / "absent.toml"))
    swapped = tmp_path / "swapped.pdf"
    swapped.write_bytes(_both(unsigned_pdf, organization, leader))
    trust = ("--trust", str(pki.root_cert))
    before = run_motcua(capsys, "verify", str(swapped), *trust)
    # Without a binding only field names say the roles: swapped certificates look complete.
    assert before.code == 0 and "Đủ chữ ký lãnh đạo và cơ quan: có" in before.out, before

    run = run_motcua(capsys, "signers", "bind", "--role", "leader", "--cert",
                     str(pki.cert("leader")), "--account", "an")  # fmt: skip
    assert run.code == 0, run.err
    run = run_motcua(capsys, "signers", "bind", "--role", "organization", "--cert",
                     str(pki.cert("organization")))  # fmt: skip
    assert run.code == 0, run.err
    assert (home / "signers.json").stat().st_mode & 0o077 == 0
    listed = json.loads(run_motcua(capsys, "signers", "list", "--json").out)
    assert sorted(b["role"] for b in listed) == ["leader", "organization"]
    assert len(load_roles(home).bindings) == 2

    after = run_motcua(capsys, "verify", str(swapped), *trust)
    assert after.code == 1, after
    assert "field/certificate role mismatch" in after.out
    assert "Đủ chữ ký lãnh đạo và cơ quan: không" in after.out
    wrong = run_motcua(capsys, "signers", "bind", "--role", "organization", "--cert",
                       str(pki.cert("leader")))  # fmt: skip
    assert wrong.code == 2 and "cả hai vai trò" in wrong.err
