"""Personal signing (issue 16): each leader account signs with its own key, bound with
`motcua signers bind ACCOUNT --p12 FILE | --pkcs11-token ...` in the one binding file
(`<home>/signers.json`), opened with the PIN the leader types at signing.

Two leaders, An (the TEST PKI's `leader`) and Minh (`leader-2`, a PKCS#12 with a password of
his own), each sign a result; the signed PDFs are verified with pyHanko (`signing.verify_pdf`):
the leader signature's certificate is the account's, and the stamp reads the account's
certificate's name. A third leader (Hoa) is bound to a SoftHSM2 token slot with the CLI (which
opens the token to read its certificate); signing with it in this process is not tested here:
python-pkcs11 answers "already initialized" when the request thread opens the token. A wrong PIN, a
leader without a key of their own on the server's shared key, and a leader preparing a device
signature with another leader's certificate are refused, in Vietnamese, before anything is
signed. Real rendering, real Prefect flows, the TEST PKI's TSA on 127.0.0.1, the session's S3.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, WebWorld, build_world, csrf_from, csrf_header, sign_in, take_in

from motcua.web.jobs import Job, JobState
from signing import TestPki, TrustServices, testpki, verify_pdf
from signing.roles import fingerprint, load_roles
from storage.s3 import S3Config
from tests.softhsm import SoftToken, softhsm_token

FIELDS = {
    "birth_date": "15/03/2003",
    "sex": "Nam",
    "ethnicity": "Kinh",
    "nationality": "Việt Nam",
    "residence": "Thôn Phú Sơn, xã Hòa Tiến",
    "marital_status": "Chưa đăng ký kết hôn với ai",
    "purpose": "làm thủ tục đăng ký kết hôn",
}
MINH_PASSWORD = "minh-ky-so-2026"  # Minh's PKCS#12 password: not the TEST PKI's
TOKEN, TOKEN_KEY, TOKEN_PIN = "motcua-hoa-token", "hoa-key", "246813"
LEVEL = "B-T"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    made = testpki.init(tmp_path_factory.mktemp("personal-signing") / "test-pki")
    names = ("MOTCUA_ORG_P12_PASSWORD", "MOTCUA_P12_PASSWORD")
    previous = {name: os.environ.get(name) for name in names}
    # the organisation's key and the server's shared key (MOTCUA_SIGNING_LEADER_P12: An's
    # certificate, bound to An) take their password from the environment, as in production;
    # the leaders' own keys never do
    os.environ.update(dict.fromkeys(names, made.p12_password))
    with TrustServices(made):
        yield made
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[SoftToken]:
    with softhsm_token(tmp_path_factory.mktemp("softhsm-hoa"), pki, label=TOKEN,
                       key_label=TOKEN_KEY, pin=TOKEN_PIN,
                       holder="TEST Võ Thị Hoa (token)") as made:  # fmt: skip
        yield made


def _minh_p12(pki: TestPki, folder: Path) -> Path:
    """leader-2's key and certificate, under Minh's own password."""
    key = serialization.load_pem_private_key(pki.key("leader-2").read_bytes(), password=None)
    cert = pkcs12.load_key_and_certificates(
        pki.p12("leader-2").read_bytes(), pki.p12_password.encode()
    )[1]
    assert cert is not None
    out = folder / "minh.p12"
    out.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"minh", key,  # type: ignore[arg-type]
            cert, None, serialization.BestAvailableEncryption(MINH_PASSWORD.encode()),
        )
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    s3_config: S3Config,
    pki: TestPki,
    token: SoftToken,
) -> Iterator[WebWorld]:
    """An office with three leader accounts bound to their own keys with the CLI; the server's
    shared key (MOTCUA_SIGNING_LEADER_P12) is An's certificate, bound to An."""
    base = tmp_path_factory.mktemp("personal-signing")
    home = base / "home"
    made = build_world(
        home,
        s3_config,
        signing_leader_p12=pki.p12("leader"),
        signing_organization_p12=pki.p12("organization"),
        signing_chain=pki.chain,
        signing_trust=pki.root_cert,
        signing_tsa_url=pki.tsa_url,
        signing_level=LEVEL,
        signing_leader_name="TEST Nguyễn Văn An",
        signing_signature_image=pki.signature_image,
        signing_seal_image=pki.seal_image,
    )
    accounts = made.services.accounts
    for user, name in (("an", "Nguyễn Văn An"), ("minh", "Trần Văn Minh"),
                       ("hoa", "Võ Thị Hoa"), ("binh", "Lê Văn Bình")):  # fmt: skip
        accounts.add_user(user, PASSWORD, "leader", full_name=name)
    minh_p12 = _minh_p12(pki, base)
    _motcua(home, "signers", "bind", "an", "--p12", str(pki.p12("leader")),
            secret={"MOTCUA_P12_PASSWORD": pki.p12_password})  # fmt: skip
    _motcua(home, "signers", "bind", "minh", "--p12", str(minh_p12), "--title", "Phó Chủ tịch",
            secret={"MOTCUA_P12_PASSWORD": MINH_PASSWORD})  # fmt: skip
    _motcua(home, "signers", "bind", "hoa", "--pkcs11-module", str(token.module),
            "--pkcs11-token", TOKEN, "--pkcs11-key", TOKEN_KEY,
            secret={"MOTCUA_PKCS11_PIN": TOKEN_PIN})  # fmt: skip
    _motcua(home, "signers", "bind", "--role", "organization", "--cert",
            str(pki.cert("organization")))  # fmt: skip
    yield made


def _motcua(home: Path, *args: str, secret: dict[str, str] | None = None) -> str:
    """`motcua ARGS` on the office's home, as an administrator runs it; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_HOME": str(home), "MOTCUA_CONFIG": str(home / "absent.toml"),
                **(secret or {})})  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "motcua", *args], env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, f"motcua {' '.join(args)}: {done.stderr}"
    return done.stdout


def _wait(world: WebWorld, job_id: str, timeout: float = 240) -> Job:
    job = world.services.jobs.wait(job_id, timeout)
    assert job is not None and job.state.finished, f"job {job_id} did not end: {job}"
    return job


def _drafted(world: WebWorld, salt: str) -> str:
    code = take_in(world.services, name="Phạm Văn Đức", salt=salt).code
    clerk = sign_in(world.app, "clerk")
    r = clerk.post(
        f"/api/v1/dossiers/{code}/result", json={"fields": FIELDS}, headers=csrf_header(clerk)
    )
    assert r.status_code == 202, r.text
    job = _wait(world, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)
    return code


def _sha(client: TestClient, code: str) -> str:
    queue = client.get("/api/v1/signing/queue").json()
    return str(next(i for i in queue if i["dossier_code"] == code)["draft_sha256"])


def _stamp_lines(pdf: bytes) -> list[str]:
    """The text of the leader's signature appearance (its /ActualText spans)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for annot in page.get("/Annots", []):
                if str(annot.get("/T", "")) == "motcua_leader":
                    return [
                        str(operands[1].ActualText)
                        for operands, operator in pikepdf.parse_content_stream(annot.AP.N)
                        if str(operator) == "BDC" and "/ActualText" in operands[1]
                    ]
    raise AssertionError("no leader signature field")


def _check(world: WebWorld, pki: TestPki, pdf: bytes, name: str, cert: Path | None) -> None:
    report = verify_pdf(pdf, trust=[pki.root_cert], roles=load_roles(world.home))
    assert report.ok and report.complete, report.as_json()
    leader = next(s for s in report.signatures if s.role == "leader")
    assert leader.signer == name
    if cert is not None:
        from signing import load_certificates

        assert leader.certificate_sha256 == fingerprint(load_certificates([cert])[0])
    assert f"Ký bởi: {name}" in _stamp_lines(pdf), _stamp_lines(pdf)


def test_the_binding_file_holds_each_leaders_own_key_and_no_secret(
    world: WebWorld, pki: TestPki
) -> None:
    raw = (world.home / "signers.json").read_text(encoding="utf-8")
    assert pki.p12_password not in raw and MINH_PASSWORD not in raw and TOKEN_PIN not in raw
    roles = load_roles(world.home)
    an, minh, hoa = roles.key_of("an"), roles.key_of("minh"), roles.key_of("hoa")
    assert an is not None and an.key == "pkcs12" and an.name == "TEST Nguyễn Văn An"
    assert minh is not None and minh.name == "TEST Trần Văn Minh" and minh.title == "Phó Chủ tịch"
    assert hoa is not None and hoa.key == "pkcs11" and hoa.pkcs11_token == TOKEN
    assert roles.key_of("binh") is None
    for binding in (an, minh):
        assert binding.p12 is not None
        kept = world.home / binding.p12
        assert kept.is_file() and kept.stat().st_mode & 0o077 == 0
    listed = json.loads(_motcua(world.home, "signers", "list", "--json"))
    assert {b["account"]: b.get("key") for b in listed if b["account"]} == {
        "an": "pkcs12",
        "minh": "pkcs12",
        "hoa": "pkcs11",
    }


def test_two_leaders_each_sign_with_their_own_key_and_name(world: WebWorld, pki: TestPki) -> None:
    an, minh = (sign_in(world.app, u) for u in ("an", "minh"))
    first, second = (_drafted(world, f"own-{n}") for n in range(2))

    # An, through the page's form: the PIN field, then the job.
    page = an.get(f"/signing/{first}")
    assert 'name="pin"' in page.text and "TEST Nguyễn Văn An" in page.text
    r = an.post(f"/signing/{first}/sign", data={"csrftoken": csrf_from(page.text),
                "draft_sha256": _sha(an, first), "pin": pki.p12_password},
                follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/"), r.text
    job = _wait(world, r.headers["location"].rsplit("/", 1)[1])
    assert job.state is JobState.completed, (job.error, job.hint)

    # Minh, through the API, with his own password.
    r = minh.post(f"/api/v1/signing/{second}/sign",
                  json={"draft_sha256": _sha(minh, second), "pin": MINH_PASSWORD},
                  headers=csrf_header(minh))  # fmt: skip
    assert r.status_code == 202, r.text
    job = _wait(world, r.json()["id"])
    assert job.state is JobState.completed, (job.error, job.hint)

    _check(world, pki, an.get(f"/api/v1/dossiers/{first}/result.pdf").content,
           "TEST Nguyễn Văn An", pki.cert("leader"))  # fmt: skip
    minh_pdf = minh.get(f"/api/v1/dossiers/{second}/result.pdf").content
    _check(world, pki, minh_pdf, "TEST Trần Văn Minh", pki.cert("leader-2"))
    assert "Phó Chủ tịch" in " ".join(_stamp_lines(minh_pdf))
    requested = {
        e.target_id: e.details["key"]
        for e in world.services.audit.entries(limit=200)
        if e.action == "result.sign_requested" and e.target_id in (first, second)
    }
    assert requested == {first: "own-pkcs12", second: "own-pkcs12"}
    entries = json.dumps([dict(e.details) for e in world.services.audit.entries(limit=500)],
                         ensure_ascii=False)  # fmt: skip
    for secret in (pki.p12_password, MINH_PASSWORD, TOKEN_PIN):
        assert secret not in entries


def test_a_wrong_pin_is_refused_beside_the_field_and_nothing_is_signed(
    world: WebWorld, pki: TestPki
) -> None:
    minh = sign_in(world.app, "minh")
    code = _drafted(world, "wrong-pin")
    sha = _sha(minh, code)
    # An's password does not open Minh's key.
    r = minh.post(f"/api/v1/signing/{code}/sign", json={"draft_sha256": sha,
                  "pin": pki.p12_password}, headers=csrf_header(minh))  # fmt: skip
    assert r.status_code == 400 and "mã PIN" in r.json()["detail"], r.text
    page = minh.get(f"/signing/{code}")
    r = minh.post(f"/signing/{code}/sign", data={"csrftoken": csrf_from(page.text),
                  "draft_sha256": sha, "pin": "sai-ma-pin"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 400
    error = re.search(r'<p id="pin-error"[^>]*>([^<]+)</p>', r.text)
    assert error and "mã PIN (mật khẩu) không đúng" in error.group(1), r.text
    assert 'aria-invalid="true"' in r.text and f'value="{sha}"' in r.text
    for leak in ("sai-ma-pin", str(world.home), ".p12", "InputFileError", "Error"):
        assert leak not in r.text, leak
    # No PIN at all: asked for, next to the field.
    r = minh.post(f"/signing/{code}/sign", data={"csrftoken": csrf_from(page.text),
                  "draft_sha256": sha}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 400 and "hãy nhập mã PIN" in r.text
    assert world.services.register.get(code).status.value == "processing"
    assert "result.signed" not in [e.action for e in world.services.audit.entries(target_id=code)]


def test_a_leader_cannot_sign_with_another_leaders_key(world: WebWorld, pki: TestPki) -> None:
    code = _drafted(world, "not-yours")
    # Bình has no key of his own, and the server's shared key is An's: refused.
    binh = sign_in(world.app, "binh")
    r = binh.post(f"/api/v1/signing/{code}/sign", json={"draft_sha256": _sha(binh, code)},
                  headers=csrf_header(binh))  # fmt: skip
    assert r.status_code == 409, r.text
    assert "được gán cho tài khoản an, không phải binh" in r.json()["detail"]
    # Minh, preparing a device signature with An's certificate: refused at step 1.
    minh = sign_in(world.app, "minh")
    chain = pki.cert("leader").read_text() + pki.chain.read_text()
    r = minh.post(f"/api/v1/signing/{code}/prepare",
                  json={"certificate_chain": chain, "draft_sha256": _sha(minh, code)},
                  headers=csrf_header(minh))  # fmt: skip
    assert r.status_code == 409, r.text
    assert "được gán cho tài khoản an, không phải minh" in r.json()["detail"]
    # Minh cannot fall back on the shared key either: he has his own.
    r = minh.post(f"/api/v1/signing/{code}/sign", json={"draft_sha256": _sha(minh, code),
                  "pin": pki.p12_password}, headers=csrf_header(minh))  # fmt: skip
    assert r.status_code == 400
    assert world.services.register.get(code).status.value == "processing"


def test_bulk_signing_lists_the_results_and_asks_once(world: WebWorld, pki: TestPki) -> None:
    an = sign_in(world.app, "an")
    codes = [_drafted(world, f"bulk-{n}") for n in range(2)]
    queue = an.get("/signing")
    form = {"csrftoken": csrf_from(queue.text), "codes": codes}
    shas = {f"draft_sha256.{c}": _sha(an, c) for c in codes}
    confirm = an.post("/signing/sign", data={**form, **shas}, follow_redirects=False)
    assert confirm.status_code == 200
    listed = re.findall(r'data-testid="confirm-row" data-code="([^"]+)"', confirm.text)
    assert listed == codes
    assert 'name="pin"' in confirm.text and 'name="confirmed" value="1"' in confirm.text
    wrong = an.post("/signing/sign", data={**form, **shas, "confirmed": "1", "pin": "x"},
                    follow_redirects=False)  # fmt: skip
    assert wrong.status_code == 400 and 'id="pin-error"' in wrong.text
    assert re.findall(r'data-testid="confirm-row" data-code="([^"]+)"', wrong.text) == codes
    done = an.post("/signing/sign", data={**form, **shas, "confirmed": "1",
                   "pin": pki.p12_password}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    job = _wait(world, done.headers["location"].rsplit("/", 1)[1])
    assert job.state is JobState.completed, (job.error, job.hint)
    assert job.result is not None and len(job.result["signed"]) == 2
