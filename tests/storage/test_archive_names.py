"""File names as scanners and phones send them reach the archive under the same name: quotes,
`#`, `?`, spaces, Vietnamese (issue 13, item 7). `%` is BagIt's escape character: the archive
refuses it with a clear error, and every door makes names safe first (`archive_safe_name`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua.errors import BadArgumentError
from storage.archive import Archive
from storage.record import archive_safe_name
from tests.storage.test_archive_store import _info

AWKWARD = ['tờ khai "bản chính".txt', "ảnh #2?.txt", "a+b&c=d;e'f.txt"]


def test_awkward_names_are_archived_fetched_and_verified(archive: Archive, tmp_path: Path) -> None:
    files = []
    for i, name in enumerate(AWKWARD):
        path = tmp_path / name
        path.write_text(f"tệp {i}: Nguyễn Thị Hằng\n", encoding="utf-8")
        files.append(path)
    result = archive.put(files, _info(files))
    assert [f.name for f in result.files] == AWKWARD
    audit = archive.verify(result.record_id)
    assert audit.ok, audit.findings
    bag = archive.get(result.record_id, tmp_path / "out")
    for path in files:
        assert (bag / "data" / path.name).read_bytes() == path.read_bytes()
        key, version = archive.store_original(path, "H40.29.10-261122-0007")
        assert version
        stored = archive.client.get_object(archive.buckets.originals, key)
        assert stored.read() == path.read_bytes()
        stored.close()
        stored.release_conn()


def test_a_percent_name_is_refused_by_the_archive_and_made_safe_by_the_doors(
    archive: Archive, tmp_path: Path
) -> None:
    path = tmp_path / "tờ khai %22mẹ%22.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(BadArgumentError, match="%22"):
        archive.put([path], _info([path]))
    # originals and quarantined inputs are kept whatever their name (the key made safe)
    key, _ = archive.store_original(path, "H40.29.10-261122-0007")
    assert key.endswith("-tờ khai _22mẹ_22.txt")
    assert archive.quarantine(path, "không đọc được").endswith("-tờ khai _22mẹ_22.txt")
    assert archive_safe_name(path.name) == "tờ khai _22mẹ_22.txt"
    assert archive_safe_name('C:\\scan\\"a".pdf') == "_a_.pdf"
    assert archive_safe_name("..") == "tep"
