"""Issue 13, item 7: any file name a door accepts reaches the archive, and a dossier whose archive
step failed stays "chưa lưu trữ" (listed by the audit, archived by the next run), never a completed
job without a record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.context import current_office
from flows.intake import intake_dossier
from flows.maintenance import fixity_audit
from motcua.errors import ArchivePendingError
from storage.record import ORIGINAL_NAME_PREFIX

WHEN = "2026-11-23T09:00:00+07:00"


def _awkward(scans: dict[str, Path], folder: Path) -> list[Path]:
    folder.mkdir()
    declaration = folder / 'tờ khai %22mẹ%22 "bản chính".png'
    card = folder / "50% cccd #1?.jpg"
    shutil.copyfile(scans["declaration"], declaration)
    shutil.copyfile(scans["card"], card)
    return [declaration, card]


def test_names_with_percent_and_quotes_are_archived_under_safe_names(
    office_home: Path, tmp_path: Path, birth_dossier_scans: dict[str, Path]
) -> None:
    files = _awkward(birth_dossier_scans, tmp_path / "in")
    result = intake_dossier([str(f) for f in files], "dang-ky-khai-sinh", WHEN)
    assert result["record_id"]
    archive = current_office().archive
    assert archive.verify(result["record_id"]).ok
    metadata = archive.metadata(result["record_id"])
    originals = {
        k[len(ORIGINAL_NAME_PREFIX) :]: v
        for k, v in metadata["extra"].items()
        if k.startswith(ORIGINAL_NAME_PREFIX)  # beside them: the PDF/A checks ("pdfa:<file>")
    }
    assert sorted(originals.values()) == sorted(f.name for f in files)  # the names as given
    assert all("%" not in name and '"' not in name for name in originals)
    kept = archive.client.list_objects(
        archive.buckets.originals, prefix=result["dossier_code"], recursive=True
    )
    assert len(list(kept)) == 2
    assert all(f.read_bytes() for f in files)  # the clerk's files are untouched


def test_a_failed_archive_step_leaves_the_dossier_pending_until_the_next_run(
    office_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    birth_dossier_scans: dict[str, Path],
) -> None:
    files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])]
    # A real refusal by the real server: the working key's secret is wrong.
    import os

    good_secret = os.environ["MOTCUA_S3_SECRET_KEY"]
    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", good_secret + "x")
    current_office.cache_clear()
    with pytest.raises(ArchivePendingError, match="chưa lưu trữ được"):
        intake_dossier(files, "dang-ky-khai-sinh", WHEN)
    pending = current_office().register.unarchived()
    assert len(pending) == 1 and pending[0].archive_pending
    code = pending[0].code
    assert pending[0].to_json()["archived"] is False

    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", good_secret)
    current_office.cache_clear()
    audit = fixity_audit(fail_on_findings=False)
    assert [f["record_id"] for f in audit["findings"]] == [code]
    assert "chưa lưu trữ" in audit["findings"][0]["problem"]

    again = intake_dossier(files, "dang-ky-khai-sinh", WHEN)  # the job's retry
    assert (again["dossier_code"], again["created"]) == (code, False)
    assert again["record_id"]
    assert current_office().archive.verify(again["record_id"]).ok
    assert current_office().register.unarchived() == []
    assert current_office().register.get(code).archived
    assert fixity_audit(fail_on_findings=False)["findings"] == []
    json.dumps(again)  # the job's answer stays plain JSON
