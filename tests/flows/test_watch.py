"""The hot folder's mechanics: stability, grouping, moves, reports, restarts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.watch import FAILED, PROCESSED, HotFolder
from motcua.errors import InputFileError, ServiceUnavailableError


class Recorder:
    """An intake function that records what it was given (the flow is tested elsewhere)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, files: list[Path]) -> dict[str, Any]:
        names = [f.name for f in files]
        if any(n.startswith("bad") for n in names):
            raise InputFileError(files[0], "không đọc được tệp (not a scan)")
        self.calls.append(names)
        return {"dossier_code": f"H40.29.10-261122-{len(self.calls):04d}"}


def _settle(folder: HotFolder) -> list[Path]:
    folder.ready_units(now=0.0)
    return folder.ready_units(now=10.0)


def test_subfolder_is_one_dossier_and_top_level_file_another(tmp_path: Path) -> None:
    (tmp_path / "ho-so-1").mkdir()
    (tmp_path / "ho-so-1" / "to-khai.pdf").write_bytes(b"%PDF-1 a")
    (tmp_path / "ho-so-1" / "cccd.jpg").write_bytes(b"\xff\xd8 b")
    (tmp_path / "scan-0002.pdf").write_bytes(b"%PDF-1 c")
    recorder = Recorder()
    folder = HotFolder(tmp_path, recorder, stable_seconds=3)
    for unit in _settle(folder):
        folder.process(unit)
    assert sorted(recorder.calls) == [["cccd.jpg", "to-khai.pdf"], ["scan-0002.pdf"]]
    assert (tmp_path / PROCESSED / "ho-so-1" / "cccd.jpg").read_bytes() == b"\xff\xd8 b"
    report = json.loads((tmp_path / PROCESSED / "scan-0002.pdf.report.json").read_text())
    assert report["ok"] and report["result"]["dossier_code"].endswith("0002")


def test_a_file_still_being_written_is_not_taken(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1 part one")
    folder = HotFolder(tmp_path, Recorder(), stable_seconds=3)
    assert folder.ready_units(now=0.0) == []
    with open(scan, "ab") as fh:
        fh.write(b" part two")
    assert folder.ready_units(now=5.0) == []  # changed since last look: the clock restarts
    assert folder.ready_units(now=7.0) == []  # stable for only 2 s
    assert folder.ready_units(now=8.5) == [scan]
    (tmp_path / "next.pdf.part").write_bytes(b"partial download")
    assert [u.name for u in folder.units()] == ["scan.pdf"]


def test_bad_input_goes_to_failed_with_the_reason_and_nothing_is_lost(tmp_path: Path) -> None:
    (tmp_path / "bad-scan.pdf").write_bytes(b"garbage")
    folder = HotFolder(tmp_path, Recorder(), stable_seconds=1)
    (unit,) = _settle(folder)
    outcome = folder.process(unit)
    assert outcome is not None and not outcome.ok
    assert (tmp_path / FAILED / "bad-scan.pdf").read_bytes() == b"garbage"
    report = json.loads((tmp_path / FAILED / "bad-scan.pdf.report.json").read_text())
    assert "không đọc được tệp" in report["error"]


def test_service_outage_leaves_the_unit_for_a_later_try(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF")
    calls = []

    def flaky(files: list[Path]) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise ServiceUnavailableError("object store down")
        return {"dossier_code": "X"}

    folder = HotFolder(tmp_path, flaky, stable_seconds=1)
    (unit,) = _settle(folder)
    assert folder.process(unit) is None
    assert (tmp_path / "scan.pdf").exists()
    (unit,) = _settle(folder)
    outcome = folder.process(unit)
    assert outcome is not None and outcome.ok and len(calls) == 2


def test_names_never_collide_in_processed(tmp_path: Path) -> None:
    recorder = Recorder()
    folder = HotFolder(tmp_path, recorder, stable_seconds=1)
    for content in (b"first", b"second"):
        (tmp_path / "scan.pdf").write_bytes(content)
        (unit,) = _settle(folder)
        folder.process(unit)
    assert (tmp_path / PROCESSED / "scan.pdf").read_bytes() == b"first"
    assert (tmp_path / PROCESSED / "scan-1.pdf").read_bytes() == b"second"


def test_restart_after_intake_but_before_move_does_not_repeat_intake(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7 dossier")
    recorder = Recorder()
    folder = HotFolder(tmp_path, recorder, stable_seconds=1)
    (unit,) = _settle(folder)

    def crash_on_move(*_args: Any) -> None:
        raise KeyboardInterrupt("the watcher was killed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("flows.watch.shutil.move", crash_on_move)  # a fault, injected
        with pytest.raises(KeyboardInterrupt):
            folder.process(unit)
    assert (tmp_path / "scan.pdf").exists() and len(recorder.calls) == 1

    restarted = HotFolder(tmp_path, recorder, stable_seconds=1)
    outcomes = restarted.run(poll_seconds=0.05, once=True)
    assert [o.ok for o in outcomes] == [True]
    assert len(recorder.calls) == 1  # not taken in twice
    assert (tmp_path / PROCESSED / "scan.pdf").exists()
