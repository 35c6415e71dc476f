"""Scoped API tokens (intake, read, results; expiry; shown once; revocable) and the dossier
intake through the API with an Idempotency-Key: the same key twice is one job, one dossier."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import cv2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from web_helpers import WebWorld, build_world

from motcua.errors import BadArgumentError
from motcua.web.db import run
from motcua.web.models import TokenRow
from storage.s3 import S3Config


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _permissions(client: TestClient, secret: str) -> set[str]:
    me = client.get("/api/v1/me", headers=_bearer(secret))
    assert me.status_code == 200, me.text
    return set(me.json()["permissions"])


def test_each_scope_opens_only_its_part_of_the_api(world: WebWorld) -> None:
    accounts = world.services.accounts
    client = TestClient(world.app)
    _, intake = accounts.add_token("cong-dvc", ["intake"])
    _, reader = accounts.add_token("ioffice-doc", ["read"])
    _, results = accounts.add_token("ioffice-kq", ["results"])
    _, both = accounts.add_token("ioffice-all", ["intake", "read", "results"])
    assert _permissions(client, intake) == {"self.read", "dossiers.intake"}
    assert _permissions(client, reader) == {"self.read", "dossiers.read", "reports.read",
                                            "archive.read"}  # fmt: skip
    assert _permissions(client, results) == {"self.read", "results.read"}
    assert _permissions(client, both) == (
        _permissions(client, intake) | _permissions(client, reader) | _permissions(client, results)
    )
    # A token from before scopes reads and fetches results, as it always did.
    assert _permissions(client, world.token) == _permissions(client, reader) | {"results.read"}

    listing = "/api/v1/dossiers"
    assert client.get(listing, headers=_bearer(reader)).status_code == 200
    assert client.get(listing, headers=_bearer(intake)).status_code == 403
    assert client.get(listing, headers=_bearer(results)).status_code == 403
    code = world.signed.code
    accept = f"/api/v1/dossiers/{world.complete.code}/accept"
    assert client.post(accept, headers=_bearer(reader)).status_code == 403
    assert client.post(accept, headers=_bearer(intake)).status_code == 200  # accepted
    assert client.get(f"/api/v1/dossiers/{code}/result.pdf",
                      headers=_bearer(intake)).status_code == 403  # fmt: skip
    shown = {t.name: t for t in accounts.tokens()}
    assert shown["cong-dvc"].scopes == ("intake",)
    assert shown["ioffice-all"].scopes == ("intake", "read", "results")
    assert all(intake not in repr(t) for t in shown.values())  # the secret is kept nowhere
    with pytest.raises(BadArgumentError, match="không có phạm vi “write”"):
        accounts.add_token("x", ["read", "write"])
    with pytest.raises(BadArgumentError, match="cần ít nhất một phạm vi"):
        accounts.add_token("y", [])


def test_expired_and_revoked_tokens_open_nothing(world: WebWorld) -> None:
    accounts = world.services.accounts
    client = TestClient(world.app)
    token, secret = accounts.add_token("het-han", ["read"], expires_days=30)
    assert token.expires_at is not None
    assert dt.timedelta(days=29) < token.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(30)
    assert client.get("/api/v1/dossiers", headers=_bearer(secret)).status_code == 200
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    run(world.services.engine,
        lambda s: s.execute(update(TokenRow).where(TokenRow.name == "het-han")
                            .values(expires_at=past)), what="test")  # fmt: skip
    refused = client.get("/api/v1/dossiers", headers=_bearer(secret))
    assert refused.status_code == 401
    assert {t.name: t.state for t in accounts.tokens()}["het-han"] == "expired"

    _, other = accounts.add_token("thu-hoi", ["read"])
    assert client.get("/api/v1/dossiers", headers=_bearer(other)).status_code == 200
    accounts.revoke_token("thu-hoi")
    assert client.get("/api/v1/dossiers", headers=_bearer(other)).status_code == 401


def test_tokens_add_with_scope_and_expiry_at_the_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_HOME": str(home), "MOTCUA_CONFIG": str(home / "absent.toml")})

    def motcua(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "motcua", *args], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    added = motcua("tokens", "add", "dvc", "--scope", "intake,read", "--expires", "7")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert secret.startswith("mct_") and "scopes intake,read" in added.stderr
    assert "expires" in added.stderr
    listed = motcua("tokens", "list")
    assert "intake,read" in listed.stdout and "expires" in listed.stdout
    assert secret not in listed.stdout  # shown once
    bad = motcua("tokens", "add", "dvc2", "--scope", "everything")
    assert bad.returncode == 2 and "không có phạm vi “everything”" in bad.stderr


@pytest.fixture(scope="module")
def submit_world(tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config) -> WebWorld:
    return build_world(tmp_path_factory.mktemp("submit") / "home", s3_config)


def _card(folder: Path, seed: int) -> Path:
    from samples.documents import make_card

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"cccd-{seed}.jpg"
    cv2.imwrite(str(path), make_card(seed, "clean").image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def _files(path: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (path.name, path.read_bytes(), "image/jpeg"))]


def test_the_same_intake_twice_with_one_key_is_one_job_and_one_dossier(
    submit_world: WebWorld, tmp_path: Path
) -> None:
    world = submit_world
    client = TestClient(world.app)
    _, secret = world.services.accounts.add_token("cong-dich-vu-cong", ["intake"])
    card = _card(tmp_path, 41)
    key = str(uuid.uuid4())
    form = {"procedure": "xac-nhan-tinh-trang-hon-nhan"}
    headers = {**_bearer(secret), "Idempotency-Key": key}
    before = {d.code for d in world.services.register.list()}

    first = client.post("/api/v1/dossiers", headers=headers, data=form, files=_files(card))
    assert first.status_code == 202, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post("/api/v1/dossiers", headers=headers, data=form, files=_files(card))
    assert again.status_code == 202, again.text
    assert again.headers["idempotent-replayed"] == "true"
    job_id = first.json()["id"]
    assert again.json()["id"] == job_id and again.headers["location"] == f"/api/v1/jobs/{job_id}"

    world.services.jobs.wait(job_id, timeout=400)
    job = client.get(f"/api/v1/jobs/{job_id}", headers=_bearer(secret)).json()  # its own job
    assert job["state"] == "completed", job
    code = job["result"]["dossier_code"]
    after = client.post("/api/v1/dossiers", headers=headers, data=form, files=_files(card))
    assert after.status_code == 202 and after.json()["id"] == job_id
    assert after.json()["result"]["dossier_code"] == code  # the same key: the same answer
    added = {d.code for d in world.services.register.list()} - before
    assert added == {code}  # one dossier
    assert world.services.register.get(code).channel == "online"  # pushed in by the e-office

    other = _card(tmp_path, 42)
    misuse = client.post("/api/v1/dossiers", headers=headers, data=form, files=_files(other))
    assert misuse.status_code == 400 and "Idempotency-Key" in misuse.json()["detail"]
    bad = client.post("/api/v1/dossiers", headers={**_bearer(secret), "Idempotency-Key": "a b"},
                      data=form, files=_files(card))  # fmt: skip
    assert bad.status_code == 400

    # Without a key the same files are the same dossier, and the job says "đã tiếp nhận".
    plain = client.post("/api/v1/dossiers", headers=_bearer(secret), data=form,
                        files=_files(card))  # fmt: skip
    assert plain.status_code == 202 and plain.json()["id"] != job_id
    world.services.jobs.wait(plain.json()["id"], timeout=400)
    result = client.get(plain.headers["location"], headers=_bearer(secret)).json()["result"]
    assert result["dossier_code"] == code and result["created"] is False
    assert {d.code for d in world.services.register.list()} - before == {code}

    # An intake-only token polls its own jobs, no other.
    _, other_intake = world.services.accounts.add_token("cong-khac", ["intake"])
    assert client.get(f"/api/v1/jobs/{job_id}", headers=_bearer(other_intake)).status_code == 404
