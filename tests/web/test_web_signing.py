"""Results and the leader's signing queue, end to end: real rendering, real Prefect flows, a TEST
PKI with its TSA/OCSP/CRL on 127.0.0.1, the session's S3 archive, SoftHSM2 for a token.

The clerk drafts a result (API and form), the leader finds it in the queue, previews it and signs
it with the server-side key (one or many), on a PKCS#11 token, or on their own device in two
steps: the test plays the device, signing the prepared attributes with the leader's private key
through `cryptography`. Every finished PDF is verified with `signing.verify_pdf`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from fastapi.testclient import TestClient
from sqlalchemy import update
from web_helpers import WebWorld, build_world, csrf_header, sign_in, take_in

from dossiers.register import Status
from motcua.web.db import run
from motcua.web.jobs import Job, JobState
from motcua.web.permissions import EOFFICE
from signing import TestPki, TrustServices, testpki, verify_pdf
from storage.s3 import S3Config
from tests.softhsm import SoftToken, softhsm_token

# What the extracted fields of `take_in` lack for a marital-status confirmation.
FIELDS = {
    "birth_date": "15/03/2003",
    "sex": "Nam",
    "ethnicity": "Kinh",
    "nationality": "Việt Nam",
    "residence": "Thôn Phú Sơn, xã Hòa Tiến",
    "marital_status": "Chưa đăng ký kết hôn với ai",
    "purpose": "làm thủ tục đăng ký kết hôn",
}
TOKEN, TOKEN_KEY, TOKEN_PIN = "motcua-web-token", "leader-web", "135246"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    made = testpki.init(tmp_path_factory.mktemp("web-signing") / "test-pki")
    previous = os.environ.get("MOTCUA_P12_PASSWORD")
    os.environ["MOTCUA_P12_PASSWORD"] = made.p12_password  # a secret: environment only
    with TrustServices(made):
        yield made
    if previous is None:
        os.environ.pop("MOTCUA_P12_PASSWORD", None)
    else:
        os.environ["MOTCUA_P12_PASSWORD"] = previous


def _signing_settings(pki: TestPki, level: str = "B-LTA") -> dict[str, object]:
    return {
        "signing_organization_p12": pki.p12("organization"),
        "signing_chain": pki.chain,
        "signing_trust": pki.root_cert,
        "signing_tsa_url": pki.tsa_url,
        "signing_level": level,
        "signing_signature_image": pki.signature_image,
        "signing_seal_image": pki.seal_image,
    }


@pytest.fixture(scope="module")
def sworld(tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config, pki: TestPki) -> WebWorld:
    """An office whose server holds the leader's PKCS#12 key and signs at B-LTA."""
    return build_world(
        tmp_path_factory.mktemp("web-signing") / "home",
        s3_config,
        signing_leader_p12=pki.p12("leader"),
        **_signing_settings(pki),
    )


@pytest.fixture(scope="module")
def sclients(sworld: WebWorld) -> Iterator[dict[str, TestClient]]:
    signed_in = {
        role: sign_in(sworld.app, role) for role in ("clerk", "leader", "archivist", "admin")
    }
    yield signed_in
    for client in signed_in.values():
        client.close()


def _wait(world: WebWorld, job_id: str, timeout: float = 240) -> Job:
    job = world.services.jobs.wait(job_id, timeout)
    assert job is not None and job.state.finished, f"job {job_id} did not end: {job}"
    return job


def _draft(world: WebWorld, clerk: TestClient, code: str) -> None:
    r = clerk.post(
        f"/api/v1/dossiers/{code}/result", json={"fields": FIELDS}, headers=csrf_header(clerk)
    )
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/v1/jobs/{r.json()['id']}"
    job = _wait(world, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)
    assert job.result is not None and job.result["status"] == "processing"


def _previewed(leader: TestClient, code: str) -> str:
    """The draft's SHA-256 as the leader's queue shows it: what a sign request names."""
    queue = leader.get("/api/v1/signing/queue").json()
    return str(next(i for i in queue if i["dossier_code"] == code)["draft_sha256"])


def _new_dossier(world: WebWorld, salt: str) -> str:
    return take_in(world.services, name="Phạm Văn Đức", salt=salt).code


def _actions(world: WebWorld, code: str) -> list[str]:
    return [e.action for e in world.services.audit.entries(target_id=code, limit=100)]


def _check_signed_result(pdf: bytes, pki: TestPki, level: str, leader: str) -> None:
    report = verify_pdf(pdf, trust=[pki.root_cert])
    assert report.ok and report.complete, report.as_json()
    by_role = {s.role: s for s in report.signatures}
    assert by_role["leader"].signer == leader
    assert by_role["leader"].level == level and by_role["organization"].level == level


# --- the server-side key --------------------------------------------------------------------


def test_draft_appears_in_the_queue_and_is_signed_on_the_server(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "one")
    # Incomplete fields are refused at once, with what is missing, before any job starts.
    r = clerk.post(
        f"/api/v1/dossiers/{code}/result",
        json={"fields": {"sex": "Nam"}},
        headers=csrf_header(clerk),
    )
    # the officer reads the field's label; a program finds its key in the hint
    assert r.status_code == 400 and "Tình trạng hôn nhân" in r.json()["detail"]
    assert "marital_status" not in r.json()["detail"] and "marital_status" in r.json()["hint"]
    r = clerk.post(
        f"/api/v1/dossiers/{code}/result",
        json={"fields": {"no_such": "x"}},
        headers=csrf_header(clerk),
    )
    assert r.status_code == 400 and "no_such" in r.json()["detail"]
    _draft(sworld, clerk, code)
    assert sworld.services.register.get(code).status is Status.processing

    queue = leader.get("/api/v1/signing/queue").json()
    item = next(i for i in queue if i["dossier_code"] == code)
    assert item["pages"] >= 1 and item["template"] == "xac-nhan-tinh-trang-hon-nhan"
    draft = leader.get(item["draft_pdf"])
    assert draft.status_code == 200 and draft.content.startswith(b"%PDF")
    assert draft.headers["content-disposition"].startswith("inline")

    page = leader.get("/signing")
    assert page.status_code == 200
    assert f'data-testid="queue-row" data-code="{code}"' in page.text
    assert 'id="sign-selected"' in page.text and 'data-testid="sign-one"' in page.text
    assert 'href="/signing" id="nav-signing"' in page.text
    image = leader.get(f"/signing/{code}/pages/1.png?width=240")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    preview = leader.get(f"/signing/{code}")
    assert 'id="preview-page-1"' in preview.text and 'id="sign-this"' in preview.text

    previewed = {"draft_sha256": item["draft_sha256"]}
    r = leader.post(f"/api/v1/signing/{code}/sign", json=previewed, headers=csrf_header(leader))
    assert r.status_code == 202, r.text
    job = _wait(sworld, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)
    assert job.result is not None and job.result["failed"] == []
    assert job.result["signed"][0]["record_id"] and "result_pdf" not in job.result["signed"][0]
    assert sworld.services.register.get(code).status is Status.result_signed

    # The e-office system fetches the signed result; the queue no longer lists it.
    token = {"Authorization": f"Bearer {sworld.token}"}
    result = TestClient(sworld.app).get(f"/api/v1/dossiers/{code}/result.pdf", headers=token)
    assert result.status_code == 200
    _check_signed_result(result.content, pki, "B-LTA", "TEST Nguyễn Văn An")
    assert code not in [i["dossier_code"] for i in leader.get("/api/v1/signing/queue").json()]
    assert (
        leader.post(
            f"/api/v1/signing/{code}/sign", json=previewed, headers=csrf_header(leader)
        ).status_code
        == 409
    )

    actions = _actions(sworld, code)
    for action in (
        "result.draft_requested",
        "result.drafted",
        "result.draft_viewed",
        "result.sign_requested",
        "result.signed",
        "result.downloaded",
    ):
        assert action in actions, actions
    signed = next(
        e for e in sworld.services.audit.entries(target_id=code) if e.action == "result.signed"
    )
    assert signed.actor == "user:leader" and signed.details["leader_signed"] == "server"
    assert sworld.services.audit.verify_chain().ok


def test_clerk_drafts_from_the_form_and_the_leader_signs_several(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    clerk, leader = sclients["clerk"], sclients["leader"]
    codes = [_new_dossier(sworld, f"many-{n}") for n in range(2)]
    for code in codes:
        form = {f"field.{k}": v for k, v in FIELDS.items()}
        r = clerk.post(
            f"/dossiers/{code}/result",
            data={**form, **csrf_header_form(clerk)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/"), r.text
        assert _wait(sworld, r.headers["location"].rsplit("/", 1)[1]).state is JobState.completed
    # A form missing a field goes back to the dossier with the reason.
    other = _new_dossier(sworld, "many-missing")
    r = clerk.post(
        f"/dossiers/{other}/result",
        data={"field.sex": "Nữ", **csrf_header_form(clerk)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/dossiers/{other}")
    # The fragment of the dossier page shows the clerk the result's fields.
    from motcua.web.auth import Principal
    from motcua.web.routes.results import result_actions

    svc = sworld.services
    clerk_principal = Principal("user", "clerk", "clerk", "Cán bộ clerk")
    html = sworld.app.state.templates.get_template("_result_actions.html").render(
        result_actions=result_actions(svc, clerk_principal, svc.register.get(other)),
        csrf_token="t",
    )
    assert 'id="draft-result-form"' in html and 'name="field.marital_status"' in html
    html = sworld.app.state.templates.get_template("_result_actions.html").render(
        result_actions=result_actions(svc, clerk_principal, svc.register.get(codes[0])),
        csrf_token="t",
    )
    assert 'id="result-waiting"' in html

    previewed = {f"draft_sha256.{code}": _previewed(leader, code) for code in codes}
    # The ticked rows first come back as a list to confirm once (issue 16), nothing signed yet.
    r = leader.post(
        "/signing/sign",
        data={"codes": codes, **previewed, **csrf_header_form(leader)},
        follow_redirects=False,
    )
    assert r.status_code == 200
    assert re.findall(r'data-testid="confirm-row" data-code="([^"]+)"', r.text) == codes
    assert all(svc.register.get(code).status is Status.processing for code in codes)
    r = leader.post(
        "/signing/sign",
        data={"codes": codes, **previewed, "confirmed": "1", **csrf_header_form(leader)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = _wait(sworld, r.headers["location"].rsplit("/", 1)[1])
    assert job.state is JobState.completed, (job.error, job.hint)
    assert job.result is not None
    assert sorted(s["dossier_code"] for s in job.result["signed"]) == sorted(codes)
    for code in codes:
        assert svc.register.get(code).status is Status.result_signed
        pdf = clerk.get(f"/dossiers/{code}/result.pdf")
        assert pdf.status_code == 200
        _check_signed_result(pdf.content, pki, "B-LTA", "TEST Nguyễn Văn An")
    # Nothing chosen: back to the queue with a message, no job.
    r = leader.post("/signing/sign", data=csrf_header_form(leader), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signing"
    assert all(f'data-code="{code}"' not in leader.get("/signing").text for code in codes)


def test_a_draft_changed_after_the_preview_is_not_signed(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    """Issue 13, item 4: the clerk re-drafts between the leader's preview and the click."""
    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "redraft")
    _draft(sworld, clerk, code)
    seen = _previewed(leader, code)
    assert leader.get(f"/signing/{code}").text.count(f'value="{seen}"') == 1
    forged = {**FIELDS, "residence": "Thôn Giả Mạo, xã Hòa Tiến"}
    r = clerk.post(
        f"/api/v1/dossiers/{code}/result", json={"fields": forged}, headers=csrf_header(clerk)
    )
    assert _wait(sworld, r.json()["id"]).state is JobState.completed
    assert _previewed(leader, code) != seen

    headers = csrf_header(leader)
    r = leader.post(f"/api/v1/signing/{code}/sign", json={"draft_sha256": seen}, headers=headers)
    assert r.status_code == 409 and "đã thay đổi sau khi lãnh đạo xem" in r.json()["detail"]
    body = {"codes": [code], "draft_sha256": {code: seen}}
    r = leader.post("/api/v1/signing/sign", json=body, headers=headers)
    assert r.status_code == 409 and "đã thay đổi" in r.json()["detail"]
    r = leader.post(f"/api/v1/signing/{code}/sign", json={}, headers=headers)
    assert r.status_code == 422  # a sign request must name what was previewed
    r = leader.post("/api/v1/signing/sign", json={"codes": [code], "draft_sha256": {}},
                    headers=headers)  # fmt: skip
    assert r.status_code == 400 and "draft_sha256" in r.json()["hint"]
    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": _chain_pem(pki, "leader"), "draft_sha256": seen},
        headers=headers,
    )
    assert r.status_code == 409 and "đã thay đổi" in r.json()["detail"]
    for url, data in (
        (f"/signing/{code}/sign", {"draft_sha256": seen}),
        ("/signing/sign", {"codes": [code], f"draft_sha256.{code}": seen}),
    ):
        r = leader.post(url, data={**data, **csrf_header_form(leader)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signing", url
        assert "đã thay đổi sau khi lãnh đạo xem" in leader.get("/signing").text, url
    assert sworld.services.register.get(code).status is Status.processing
    assert "result.sign_requested" not in _actions(sworld, code)

    # The flow checks it too (a job that started after the clerk's new draft).
    from flows.context import office_in_use
    from flows.result import complete_result
    from flows.signing_keys import SigningSetup
    from motcua.errors import DraftChangedError

    setup = SigningSetup.from_test_pki(pki.dir, level="B-B")
    with office_in_use(sworld.services.flows_office()), pytest.raises(DraftChangedError):
        complete_result(code, setup, None, seen)
    assert sworld.services.register.get(code).status is Status.processing


def test_dossier_issue_refuses_a_draft_other_than_the_one_previewed(
    sworld: WebWorld,
    sclients: dict[str, TestClient],
    pki: TestPki,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`motcua dossier issue CODE --draft-sha256 HEX`: exit 2 when the draft changed."""
    from flows.context import office_in_use
    from tests.signing.signing_cli_runner import run_motcua

    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "cli-redraft")
    _draft(sworld, clerk, code)
    seen = _previewed(leader, code)
    _draft(sworld, clerk, code)  # drafted again: another PDF
    assert _previewed(leader, code) != seen
    monkeypatch.setenv("MOTCUA_HOME", str(sworld.home))
    monkeypatch.setenv("MOTCUA_CONFIG", str(sworld.home / "absent.toml"))
    args = ["dossier", "issue", code, "--sign-with", str(pki.dir), "--level", "B-B"]
    with office_in_use(sworld.services.flows_office()):
        run = run_motcua(capsys, *args, "--draft-sha256", seen)
    assert run.code == 2, (run.out, run.err)
    assert "đã thay đổi sau khi lãnh đạo xem" in run.err and "Traceback" not in run.err
    assert sworld.services.register.get(code).status is Status.processing


def csrf_header_form(client: TestClient) -> dict[str, str]:
    return {"csrftoken": csrf_header(client)["x-csrftoken"]}


# --- the leader's own device ----------------------------------------------------------------


def _device_sign(pki: TestPki, label: str, prepared: dict[str, Any], *, prehashed: bool) -> str:
    """What the leader's token does: RSA PKCS#1 v1.5 over SHA-256 of the signed attributes."""
    key = serialization.load_pem_private_key(pki.key(label).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    if prehashed:
        digest = base64.b64decode(prepared["digest"])
        value = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    else:
        data = base64.b64decode(prepared["signed_attributes"])
        value = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(value).decode()


def _chain_pem(pki: TestPki, label: str) -> str:
    return pki.cert(label).read_text() + pki.chain.read_text()


def test_two_step_signing_on_the_leaders_device(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "device")
    _draft(sworld, clerk, code)
    headers = csrf_header(leader)
    sha = _previewed(leader, code)

    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": _chain_pem(pki, "leader"), "draft_sha256": sha},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    prepared = r.json()
    assert prepared["digest_algorithm"] == "sha256"
    assert prepared["signature_algorithm"] == "rsassa_pkcs1v15"
    assert prepared["signer"] == "TEST Nguyễn Văn An"
    attributes = base64.b64decode(prepared["signed_attributes"])
    assert base64.b64decode(prepared["digest"]) == hashlib.sha256(attributes).digest()

    # A value made with another key (the organisation's) is refused, clearly, and changes nothing.
    wrong = _device_sign(pki, "organization", prepared, prehashed=False)
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": wrong},
        headers=headers,
    )
    assert r.status_code == 400
    assert "không khớp" in r.json()["detail"] and "another key" in r.json()["detail"]
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": "@@not base64"},
        headers=headers,
    )
    assert r.status_code == 400

    value = _device_sign(pki, "leader", prepared, prehashed=True)
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": value},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    job = _wait(sworld, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)
    pdf = leader.get(f"/api/v1/dossiers/{code}/result.pdf")
    _check_signed_result(pdf.content, pki, "B-LTA", "TEST Nguyễn Văn An")

    # The session served once.
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": value},
        headers=headers,
    )
    assert r.status_code == 409 and "đã được dùng" in r.json()["detail"]
    details = [(e.action, dict(e.details)) for e in sworld.services.audit.entries(target_id=code)]
    actions = [a for a, _ in details]
    assert {"signing.prepared", "result.leader_signed", "result.signed"} <= set(actions)
    refusals = sorted(d["reason"] for a, d in details if a == "signing.refused")
    assert refusals == ["reused", "signature_mismatch"]


def test_a_leader_cannot_device_sign_with_the_organisations_certificate(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    """Issue 13, item 5: the organisation's certificate cannot fill the leader's role."""
    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "device-org")
    _draft(sworld, clerk, code)
    headers = csrf_header(leader)
    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": _chain_pem(pki, "organization"),
              "draft_sha256": _previewed(leader, code)},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    prepared = r.json()
    value = _device_sign(pki, "organization", prepared, prehashed=True)
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": value},
        headers=headers,
    )
    job = _wait(sworld, r.json()["id"])
    assert job.state is JobState.failed
    assert "chứng thư số của cơ quan" in (job.error or ""), job.error
    assert sworld.services.register.get(code).status.value != "result_signed"
    assert "result.signed" not in _actions(sworld, code)


def test_expired_session_foreign_session_and_revoked_certificate_are_refused(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    from motcua.web.routes.device_signing import SigningSessionRow

    clerk, leader = sclients["clerk"], sclients["leader"]
    code = _new_dossier(sworld, "expired")
    _draft(sworld, clerk, code)
    headers = csrf_header(leader)
    sha = _previewed(leader, code)
    # A revoked certificate is refused before the leader is asked to sign anything.
    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": _chain_pem(pki, "leader-revoked"), "draft_sha256": sha},
        headers=headers,
    )
    assert r.status_code == 409 and "revoked" in r.json()["detail"].lower(), r.text
    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": "not a certificate", "draft_sha256": sha},
        headers=headers,
    )
    assert r.status_code == 400

    r = leader.post(
        f"/api/v1/signing/{code}/prepare",
        json={"certificate_chain": _chain_pem(pki, "leader"), "draft_sha256": sha},
        headers=headers,
    )
    prepared = r.json()
    value = _device_sign(pki, "leader", prepared, prehashed=False)

    def expire(session: Any) -> None:
        session.execute(
            update(SigningSessionRow)
            .where(SigningSessionRow.id == prepared["session_id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )

    run(sworld.services.engine, expire, what="test")
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": prepared["session_id"], "signature": value},
        headers=headers,
    )
    assert r.status_code == 410 and "hết hạn" in r.json()["detail"]
    # Another session id, or this one for another dossier: not found.
    r = leader.post(
        f"/api/v1/signing/{code}/finish",
        json={"session_id": "x" * 32, "signature": value},
        headers=headers,
    )
    assert r.status_code == 404
    assert sworld.services.register.get(code).status is Status.processing
    refused = [
        e.details
        for e in sworld.services.audit.entries(target_id=code)
        if e.action == "signing.refused"
    ]
    assert {d.get("reason") or d.get("step") for d in refused} >= {"expired", "prepare"}


# --- a PKCS#11 token on the server ----------------------------------------------------------


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[SoftToken]:
    with softhsm_token(tmp_path_factory.mktemp("softhsm-web"), pki, label=TOKEN,
                       key_label=TOKEN_KEY, pin=TOKEN_PIN,
                       holder="TEST Võ Thị Hoa (token)") as made:  # fmt: skip
        yield made


def test_server_side_signing_with_a_pkcs11_token(
    tmp_path: Path,
    s3_config: S3Config,
    pki: TestPki,
    token: SoftToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_PKCS11_PIN", TOKEN_PIN)  # the PIN: environment only
    world = build_world(
        tmp_path / "home",
        s3_config,
        signing_leader_pkcs11_module=token.module,
        signing_leader_pkcs11_token=TOKEN,
        signing_leader_pkcs11_key=TOKEN_KEY,
        signing_leader_cert=token.cert,
        **_signing_settings(pki, level="B-T"),
    )
    clerk, leader = sign_in(world.app, "clerk"), sign_in(world.app, "leader")
    code = world.complete.code
    _draft(world, clerk, code)
    body = {"codes": [code], "draft_sha256": {code: _previewed(leader, code)}}
    r = leader.post("/api/v1/signing/sign", json=body, headers=csrf_header(leader))
    assert r.status_code == 202, r.text
    job = _wait(world, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)
    pdf = leader.get(f"/api/v1/dossiers/{code}/result.pdf")
    _check_signed_result(pdf.content, pki, "B-T", "TEST Võ Thị Hoa (token)")
    assert TOKEN_PIN not in str(world.services.settings.public_view())
    signed = next(
        e
        for e in world.services.audit.entries(target_id=code)
        if e.action == "result.sign_requested"
    )
    assert signed.details["key"] == "pkcs11"


def test_signing_without_a_server_key_says_what_to_configure(
    tmp_path: Path, s3_config: S3Config, pki: TestPki
) -> None:
    world = build_world(tmp_path / "home", s3_config, **_signing_settings(pki, level="B-B"))
    clerk, leader = sign_in(world.app, "clerk"), sign_in(world.app, "leader")
    code = world.complete.code
    _draft(world, clerk, code)
    previewed = {"draft_sha256": _previewed(leader, code)}
    r = leader.post(f"/api/v1/signing/{code}/sign", json=previewed, headers=csrf_header(leader))
    assert r.status_code == 500 and "MOTCUA_SIGNING_LEADER_P12" in r.json()["hint"]
    page = leader.get("/signing")
    assert "chưa được cấu hình khóa ký" in page.text
    r = leader.post(
        f"/signing/{code}/sign",
        data={**previewed, **csrf_header_form(leader)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/signing"
    flashed = leader.get("/signing").text
    assert "máy chủ chưa được cấu hình khóa ký của lãnh đạo" in flashed
    assert "no server-side leader key" not in flashed  # the English gloss stays in the API


# --- who may do what ------------------------------------------------------------------------

# (method, path, body, roles allowed); {code} is a dossier with no draft, so allowed calls end
# in 4xx without signing anything.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/api/v1/dossiers/{code}/result", {"fields": {}}, {"clerk", "admin"}),
    ("GET", "/api/v1/dossiers/{code}/result.pdf", None, {"clerk", "leader", "admin", EOFFICE}),
    ("GET", "/api/v1/signing/queue", None, {"leader"}),
    ("GET", "/api/v1/signing/{code}/draft.pdf", None, {"leader"}),
    ("POST", "/api/v1/signing/{code}/sign", None, {"leader"}),
    ("POST", "/api/v1/signing/sign", {"codes": ["{code}"]}, {"leader"}),
    ("POST", "/api/v1/signing/{code}/prepare", {"certificate_chain": "x"}, {"leader"}),
    ("POST", "/api/v1/signing/{code}/finish", {"session_id": "s", "signature": "AA=="}, {"leader"}),
    ("GET", "/signing", None, {"leader"}),
    ("GET", "/signing/{code}", None, {"leader"}),
    ("GET", "/signing/{code}/pages/1.png", None, {"leader"}),
    ("GET", "/signing/{code}/draft.pdf", None, {"leader"}),
    ("POST", "/signing/{code}/sign", None, {"leader"}),
    ("POST", "/signing/sign", None, {"leader"}),
    ("POST", "/dossiers/{code}/result", None, {"clerk", "admin"}),
    ("GET", "/dossiers/{code}/result.pdf", None, {"clerk", "leader", "admin"}),
]


@pytest.mark.parametrize("who", ["clerk", "leader", "archivist", "admin", EOFFICE, "anonymous"])
def test_role_matrix_of_results_and_signing(
    who: str, sworld: WebWorld, sclients: dict[str, TestClient]
) -> None:
    code = _new_dossier(sworld, f"roles-{who}")
    anonymous = TestClient(sworld.app)
    for method, template, body, allowed in ENDPOINTS:
        url = template.replace("{code}", code)
        api = url.startswith("/api/")
        if who in ("anonymous", EOFFICE):
            client = anonymous
            headers = {"Authorization": f"Bearer {sworld.token}"} if who == EOFFICE else {}
        else:
            client, headers = sclients[who], csrf_header(sclients[who])
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = {k: ([code] if v == ["{code}"] else v) for k, v in body.items()}
        elif method == "POST" and not api:
            kwargs["data"] = {"csrftoken": headers.get("x-csrftoken", "")}
        r = client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
        status = r.status_code
        if status == 303 and r.headers["location"].startswith("/login"):
            status = 401
        if who == "anonymous" or (who == EOFFICE and not api):
            assert status == 401, f"{who} {method} {url}: {status}"
        elif who in allowed:
            assert status not in (401, 403) and status < 500, f"{who} {method} {url}: {status}"
        else:
            assert status == 403, f"{who} {method} {url}: {status} {r.text[:200]}"
    assert sworld.services.register.get(code).status is Status.received  # nothing happened


def test_issue_result_still_drafts_and_signs_in_one_run(
    sworld: WebWorld, sclients: dict[str, TestClient], pki: TestPki
) -> None:
    """`motcua dossier issue` composes the same steps: one flow run, the same answer."""
    from flows.context import office_in_use
    from flows.result import issue_result
    from flows.signing_keys import SigningSetup

    code = _new_dossier(sworld, "issue")
    setup = SigningSetup.from_test_pki(pki.dir, level="B-T")
    with office_in_use(sworld.services.flows_office()):
        result = issue_result(code, setup, FIELDS)
    assert set(result) == {
        "dossier_code",
        "status",
        "result_pdf",
        "record_id",
        "level",
        "timeliness",
        "result_number",
    }
    assert result["status"] == "result_signed" and result["level"] == "B-T"
    # The result's number, allocated once from the procedure's book, is printed and kept.
    number = result["result_number"]
    assert re.fullmatch(r"\d+/[A-ZĐ0-9.-]+", number), number
    assert sworld.services.register.get(code).result_number == number
    signed_text = "".join(
        p.extract_text() or "" for p in pypdf.PdfReader(result["result_pdf"]).pages
    )
    assert f"Số: {number}" in signed_text.replace("Số:  ", "Số: ")
    assert Path(result["result_pdf"]).name == "ket-qua-da-ky.pdf"
    _check_signed_result(Path(result["result_pdf"]).read_bytes(), pki, "B-T", "TEST Nguyễn Văn An")
    # The web serves what the CLI signed; a second issue is refused.
    assert sclients["clerk"].get(f"/api/v1/dossiers/{code}/result.pdf").status_code == 200
    office = sworld.services.flows_office()
    with office_in_use(office), pytest.raises(Exception, match="đã có kết quả"):
        issue_result(code, setup, FIELDS)
