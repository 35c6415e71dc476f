"""The hash-chained audit log: appends, the append-only triggers, tamper detection, the page."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from web_helpers import WebWorld, sign_in

from motcua.web.audit import GENESIS, AuditLog, entry_hash


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    audit.create_tables()
    return audit


def _fill(log: AuditLog, n: int = 5) -> None:
    for i in range(1, n + 1):
        log.append(
            actor="user:lan",
            action="dossier.returned",
            target_kind="dossier",
            target_id=f"H40.29.10-260424-{i:04d}",
            details={"n": i, "note": "Trả tận tay"},
        )


def _drop_triggers(log: AuditLog) -> None:
    """What someone with the database owner's rights can do; the chain must still tell."""
    with log.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER web_audit_no_update"))
        conn.execute(text("DROP TRIGGER web_audit_no_delete"))


def test_entries_link_into_a_chain(log: AuditLog) -> None:
    _fill(log, 3)
    entries = list(reversed(log.entries()))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert entries[1].prev_hash == entries[0].hash
    e = entries[2]
    assert e.hash == entry_hash(
        seq=e.seq,
        at=e.at,
        actor=e.actor,
        action=e.action,
        target_kind=e.target_kind,
        target_id=e.target_id,
        details=e.details,
        prev_hash=e.prev_hash,
    )
    report = log.verify_chain()
    assert report.ok
    assert (report.entries, report.head_seq, report.head_hash) == (3, 3, e.hash)
    assert log.head() == (3, e.hash)


def test_the_database_refuses_update_and_delete(log: AuditLog) -> None:
    _fill(log, 2)
    with pytest.raises(DatabaseError, match="append-only"), log.engine.begin() as conn:
        conn.execute(text("UPDATE web_audit SET actor = 'user:x' WHERE seq = 1"))
    with pytest.raises(DatabaseError, match="append-only"), log.engine.begin() as conn:
        conn.execute(text("DELETE FROM web_audit WHERE seq = 2"))
    assert log.verify_chain().ok


def test_an_edited_entry_is_detected(log: AuditLog) -> None:
    _fill(log)
    _drop_triggers(log)
    with log.engine.begin() as conn:
        conn.execute(text("UPDATE web_audit SET actor = 'user:mallory' WHERE seq = 3"))
    report = log.verify_chain()
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "edited")]
    assert report.problems[0].label_vi == "Bản ghi đã bị sửa"


def test_an_edited_time_or_detail_is_detected(log: AuditLog) -> None:
    _fill(log)
    _drop_triggers(log)
    with log.engine.begin() as conn:
        conn.execute(
            text('UPDATE web_audit SET details = \'{"n": 9, "note": "Trả tận tay"}\' WHERE seq = 2')
        )
        conn.execute(text("UPDATE web_audit SET at = '2026-01-01 00:00:00.000000' WHERE seq = 4"))
    assert [(p.seq, p.kind) for p in log.verify_chain().problems] == [(2, "edited"), (4, "edited")]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    _fill(log)
    _drop_triggers(log)
    forged = entry_hash(
        seq=2,
        at=dt.datetime(2026, 4, 24, tzinfo=dt.UTC),
        actor="user:mallory",
        action="dossier.returned",
        target_kind="dossier",
        target_id="H40.29.10-260424-0002",
        details={},
        prev_hash=log.entries()[-1].hash,
    )
    with log.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE web_audit SET actor='user:mallory', details='{}', "
                "at='2026-04-24 00:00:00.000000', hash=:h WHERE seq = 2"
            ),
            {"h": forged},
        )
    assert [(p.seq, p.kind) for p in log.verify_chain().problems] == [(3, "broken_link")]


def test_a_deleted_entry_is_detected(log: AuditLog) -> None:
    _fill(log)
    _drop_triggers(log)
    with log.engine.begin() as conn:
        conn.execute(text("DELETE FROM web_audit WHERE seq = 2"))
    kinds = [(p.seq, p.kind) for p in log.verify_chain().problems]
    assert kinds == [(3, "missing"), (3, "broken_link")]


def test_entries_cut_from_the_end_are_detected(log: AuditLog) -> None:
    _fill(log)
    _drop_triggers(log)
    with log.engine.begin() as conn:
        conn.execute(text("DELETE FROM web_audit WHERE seq >= 4"))
    assert [(p.seq, p.kind) for p in log.verify_chain().problems] == [(4, "truncated")]


def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            other = AuditLog(log.engine.url.render_as_string(hide_password=False))
            for i in range(10):
                other.append(
                    actor=f"user:u{k}", action="test", target_kind="dossier", target_id=f"{k}-{i}"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = log.verify_chain()
    assert report.ok
    assert report.entries == 40


def test_details_refuse_values_that_would_not_round_trip(log: AuditLog) -> None:
    from motcua.errors import BadArgumentError

    with pytest.raises(BadArgumentError):
        log.append(
            actor="user:a", action="x", target_kind="dossier", target_id="1", details={"ratio": 0.5}
        )


def test_audit_page_and_api_show_tampering(world: WebWorld) -> None:
    archivist = sign_in(world.app, "archivist")  # appends auth.login
    world.services.audit.append(
        actor="user:clerk",
        action="dossier.returned",
        target_kind="dossier",
        target_id=world.signed.code,
    )
    page = archivist.get("/audit")
    assert "Chuỗi nhật ký toàn vẹn: 2 bản ghi" in page.text
    assert archivist.get("/api/v1/audit/verify").json()["ok"] is True
    entries = archivist.get("/api/v1/audit", params={"target_id": world.signed.code}).json()
    assert [e["action"] for e in entries] == ["dossier.returned"]
    with world.services.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER web_audit_no_update"))
        conn.execute(text("UPDATE web_audit SET target_id = 'H40.29.10-260424-0099' WHERE seq = 2"))
    page = archivist.get("/audit")
    assert "Phát hiện nhật ký bị can thiệp" in page.text
    assert "Bản ghi 2: Bản ghi đã bị sửa" in page.text
    verdict = archivist.get("/api/v1/audit/verify").json()
    assert verdict["ok"] is False
    assert verdict["problems"] == [{"seq": 2, "kind": "edited", "message": "entry 2 was changed"}]
