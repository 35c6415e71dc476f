"""The audit log and the app on PostgreSQL (the shared server of tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from web_helpers import ID_NUMBER, build_world, sign_in

from motcua.web.audit import AuditLog

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(new_postgres_database: Callable[[str], str]) -> str:
    return "postgresql+psycopg://" + new_postgres_database("web")


def test_audit_chain_on_postgres(pg_url: str) -> None:
    log = AuditLog(pg_url)
    log.create_tables()
    log.create_tables()  # idempotent: triggers replaced, head row kept
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                log.append(actor=f"user:u{k}", action="test", target_kind="dossier",
                           target_id=f"{k}-{i}", details={"i": i, "ghi_chu": "Đã trả"})  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = log.verify_chain()
    assert report.ok and report.entries == 40
    with pytest.raises(DatabaseError, match="append-only"), log.engine.begin() as conn:
        conn.execute(text("UPDATE web_audit SET actor = 'user:x' WHERE seq = 5"))
    with pytest.raises(DatabaseError, match="append-only"), log.engine.begin() as conn:
        conn.execute(text("DELETE FROM web_audit WHERE seq = 40"))
    with log.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER web_audit_no_change ON web_audit"))
        conn.execute(text("UPDATE web_audit SET actor = 'user:mallory' WHERE seq = 5"))
        conn.execute(text("DELETE FROM web_audit WHERE seq IN (12, 40)"))
    problems = [(p.seq, p.kind) for p in log.verify_chain().problems]
    assert problems == [(5, "edited"), (13, "missing"), (13, "broken_link"), (40, "truncated")]


def test_the_app_on_postgres(pg_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path / "home", catalog_url=pg_url)
    clerk = sign_in(world.app, "clerk")
    listing = clerk.get("/api/v1/dossiers")
    assert listing.status_code == 200
    assert len(listing.json()) == 3
    assert ID_NUMBER not in listing.text
    assert clerk.get(f"/api/v1/dossiers/{world.complete.code}").json()["id_numbers"] == [ID_NUMBER]
    archivist = sign_in(world.app, "archivist")
    assert archivist.get("/api/v1/audit/verify").json()["ok"] is True
    assert [e["action"] for e in archivist.get("/api/v1/audit").json()] == ["auth.login"] * 2


def test_status_links_ratings_scoped_tokens_and_channels_on_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from flows import dossier as ops
    from flows import public
    from motcua.office import cli_actor

    world = build_world(tmp_path / "home", catalog_url=pg_url)
    svc = world.services
    svc.register.create_tables()  # again: the added columns are there, nothing to add
    svc.accounts.create_tables()
    link = public.status_link(svc.core, world.signed.code)
    assert link is not None and public.status_link(svc.core, world.signed.code) == link
    citizen = TestClient(world.app)
    assert citizen.get(f"/tra-cuu/{link.token}").status_code == 200
    ops.mark_returned(svc.core, world.signed.code, actor=cli_actor())
    public.rate(svc.core, world.signed.code, 5, "Tốt", actor=cli_actor(), via="desk")
    with pytest.raises(Exception, match="đã được đánh giá"):
        public.rate(svc.core, world.signed.code, 1, None, actor=cli_actor(), via="desk")
    _, secret = svc.accounts.add_token("pg-intake", ["intake"], expires_days=1)
    me = citizen.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert set(me["permissions"]) == {"self.read", "dossiers.intake"}
    assert svc.register.get(world.complete.code).channel is None
