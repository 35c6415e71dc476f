"""`motcua watch` end to end: real intake flow (embedded Prefect, S3, Tesseract) on a hot folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.context import current_office
from flows.watch import FAILED, PROCESSED
from motcua.cli import main


@pytest.mark.slow
def test_watch_takes_in_a_scanned_subfolder_and_sets_aside_a_bad_file(
    office_home: Path,
    birth_dossier_scans: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hot = tmp_path / "may-quet"
    unit = hot / "ho-so-001"
    unit.mkdir(parents=True)
    shutil.copy(birth_dossier_scans["declaration"], unit / "to-khai.png")
    shutil.copy(birth_dossier_scans["card"], unit / "cccd.jpg")
    (hot / "bad.pdf").write_text("not a scan at all", encoding="utf-8")

    with pytest.raises(SystemExit) as done:
        main(["watch", str(hot), "--procedure", "dang-ky-khai-sinh", "--once",
              "--stable", "0.5", "--poll", "0.2"])  # fmt: skip
    out, err = capsys.readouterr()

    assert done.value.code == 2  # one unit failed
    assert "Traceback" not in out + err
    [dossier] = current_office().register.list()
    assert f"ho-so-001 → {dossier.code}" in out
    assert sorted(p.name for p in (hot / PROCESSED / "ho-so-001").iterdir()) == [
        "cccd.jpg",
        "to-khai.png",
    ]
    report = json.loads((hot / PROCESSED / "ho-so-001.report.json").read_text(encoding="utf-8"))
    assert report["ok"] and report["result"]["dossier_code"] == dossier.code
    assert sorted(d.kind for d in dossier.documents) == ["cccd", "to-khai-khai-sinh"]
    # the hot folder journals what every door journals for an intake (the CLI and the web are
    # compared entry by entry in tests/web/test_web_lifecycle.py), as the watching OS user
    journal = current_office().journal
    assert journal is not None
    [entry] = journal.entries(target_id=dossier.code)
    assert (entry.action, dict(entry.details)) == (
        "dossier.received",
        {"created": True, "status": "received", "documents": 2},
    )
    assert entry.actor.startswith("watch:")
    # the bad file is kept, byte for byte, beside a report naming the reason
    assert (hot / FAILED / "bad.pdf").read_text(encoding="utf-8") == "not a scan at all"
    failed = json.loads((hot / FAILED / "bad.pdf.report.json").read_text(encoding="utf-8"))
    assert not failed["ok"] and "bad.pdf" in failed["error"]
    assert "failed  bad.pdf" in out
