"""Repair of one copy from the other: what `motcua archive repair RECORD` does.

Each copy of the record is audited (`storage.fixity.check_copies`); an object missing or bad on
one copy is read from the copy that holds the manifest's bytes, checked against its SHA-256 and
written as a **new version** (the explicit new-version path: the bad version stays, WORM) with
the good copy's retention and a `motcua-repair` marker, which the audit then counts as good.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from minio.retention import Retention

from motcua.errors import BadArgumentError, CheckFailedError
from storage.fixity import REPAIR_META, check_copies
from storage.objects import content_type
from storage.record import MANIFEST, record_prefix

if TYPE_CHECKING:
    from storage.archive import Archive


@dataclass(frozen=True)
class Restored:
    copy: str  # the copy that was repaired
    object: str
    source: str  # the copy it came from
    version_id: str | None  # the new version

    def as_dict(self) -> dict[str, Any]:
        return {"copy": self.copy, "object": self.object, "source": self.source,
                "version_id": self.version_id}  # fmt: skip


@dataclass(frozen=True)
class RepairReport:
    record_id: str
    restored: tuple[Restored, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "restored": [r.as_dict() for r in self.restored]}


def repair(archive: Archive, record_id: str) -> RepairReport:
    """Restore every bad or missing object of each copy from the other copy."""
    if archive.replicator is None:
        raise BadArgumentError(
            "chưa cấu hình bản sao thứ hai (no replica is configured: nothing to repair from)",
            hint="set MOTCUA_S3_REPLICA_ENDPOINT and its keys",
        )
    archive.replicator.store.reset_buckets()
    archive.replicator.ensure_buckets()  # a wiped replica gets its bucket back first
    states, expected = check_copies(archive, record_id)
    if expected is None:
        known = any(s.listing.archived(MANIFEST) is not None for s in states)
        if not known:
            raise BadArgumentError(
                f"không có hồ sơ lưu trữ {record_id} trên bản nào (no record {record_id} on "
                "either copy)",
                hint="tìm mã bản ghi bằng `motcua archive search` (find the record id first)",
            )
        raise CheckFailedError(
            f"hồ sơ {record_id}: manifest hỏng trên cả hai bản, không thể khôi phục (the "
            "manifest is bad on both copies: nothing to restore from)",
            hint="báo cán bộ lưu trữ; chạy `motcua archive verify` để xem chi tiết",
        )
    unreachable = [s for s in states if s.unreachable]
    if unreachable:
        raise CheckFailedError(
            f"hồ sơ {record_id}: không kết nối được {unreachable[0].copy} "
            f"({unreachable[0].unreachable})",
            hint="check that both S3 servers run, then run the same command again",
        )
    restored: list[Restored] = []
    hopeless: list[str] = []
    prefix = record_prefix(record_id)
    for target in states:
        for name in target.bad_names():
            if name not in expected:
                continue  # an object outside the manifest: reported, never deleted
            source = next((s for s in states if s is not target and name in s.good), None)
            if source is None:
                hopeless.append(name)
                continue
            key = prefix + name
            version = source.good[name]
            buffer = io.BytesIO()
            if source.store.hash_object(key, version, buffer) != expected[name]:
                hopeless.append(name)
                continue
            retention = source.store.retention_of(key, version) or _default(archive)
            data = buffer.getvalue()
            new_version, _ = target.store.put_bytes(
                key, data, retention, content_type(name), expected[name], new_version=True,
                extra_meta={REPAIR_META: f"from-{source.copy}"},
            )  # fmt: skip
            restored.append(Restored(target.copy, name, source.copy, new_version))
    if hopeless:
        raise CheckFailedError(
            f"hồ sơ {record_id}: {', '.join(sorted(set(hopeless)))} hỏng trên cả hai bản, "
            "không thể khôi phục (bad on both copies)"
            + (f"; đã khôi phục {len(restored)} tệp khác" if restored else ""),
            hint="báo cán bộ lưu trữ; chạy `motcua archive verify` để xem chi tiết",
        )
    return RepairReport(record_id, tuple(restored))


def _default(archive: Archive) -> Retention:
    import datetime as dt

    cls = archive.retention.get(None)
    return Retention(cls.mode, cls.retain_until(dt.datetime.now(dt.UTC)))


__all__ = ["RepairReport", "Restored", "repair"]
