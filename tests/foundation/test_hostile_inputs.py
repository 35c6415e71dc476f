"""Hostile and broken inputs (samples/hostile.py) at every door: the gate, `ocr`, `extract`,
`verify`, the hot folder and web upload. Every file gets an answer, no batch stops, nothing runs
away, and the same file gets the same answer from each command."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flows.watch import FAILED, PROCESSED, HotFolder
from motcua.errors import ExitCode, InputFileError
from motcua.inputs import InputLimits, check_file
from samples.hostile import write_good, write_hostile

# What each hostile file is refused for: a fragment of its reason (the limit's setting if any).
REFUSALS = {
    "ztxt-bomb.png": "Decompressed data too large",
    "truncated.tif": "ảnh bị hỏng",
    "truncated-header.tif": "ảnh bị hỏng",
    "claims-50000.bmp": "MOTCUA_INPUT_MAX_MEGAPIXELS",
    "wide-100000x1.png": "MOTCUA_INPUT_MAX_SIDE_PX",
    "huge-30000.png": "MOTCUA_INPUT_MAX_MEGAPIXELS",
    "blank-5000-pages.pdf": "MOTCUA_INPUT_MAX_PAGES",
    "frames-400.tif": "MOTCUA_INPUT_MAX_FRAMES",
    "mediabox-14400pt.pdf": "MOTCUA_INPUT_MAX_PAGE_MM",
    "stream-bomb.pdf": "MOTCUA_INPUT_MAX_STREAM_MB",
    "empty.pdf": "tệp rỗng",
    "empty.jpg": "tệp rỗng",
    "text-named.jpg": "không phải ảnh hay PDF",
    "truncated.pdf": "PDF bị hỏng",
    "encrypted.pdf": "mật khẩu",
    "looping-pages.pdf": "PDF bị hỏng",
    "fifo scan.pdf": "không phải tệp thường (FIFO",
    "folder.pdf": "thư mục",
}
# Pass the gate (the header is sound) but cannot be decoded: refused when decoded, not before.
DECODE_FAILURES = {"truncated.jpg": "cắt cụt"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_good(tmp_path_factory.mktemp("good"))


def motcua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1", **(env or {})},
        timeout=600,  # a FIFO that blocked a read would end here, failing the test
    )


def test_every_trigger_of_the_issue_is_generated(hostile: dict[str, Path]) -> None:
    assert set(hostile) == set(REFUSALS) | set(DECODE_FAILURES)


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_gate_refuses_each_hostile_file_naming_the_reason(
    hostile: dict[str, Path], name: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        check_file(hostile[name], InputLimits())
    assert caught.value.exit_code == ExitCode.bad_input
    assert str(hostile[name]) in str(caught.value)
    assert REFUSALS[name] in caught.value.reason


def test_the_gate_passes_good_files_by_content_not_name(good: dict[str, Path]) -> None:
    formats = {key: check_file(path, InputLimits()).format for key, path in good.items()}
    assert formats["png-named-pdf"] == "png"
    assert formats["pdf"] == formats["encrypted-empty-password"] == "pdf"
    assert check_file(good["pdf"], InputLimits()).count == 1


def test_limits_come_from_the_settings(
    good: dict[str, Path], motcua_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_file(good["nfd"]).count == 1
    monkeypatch.setenv("MOTCUA_INPUT_MAX_MEGAPIXELS", "0.1")  # the text image has 0.22 Mpx
    with pytest.raises(InputFileError) as caught:
        check_file(good["nfd"])
    assert "0.1 Mpx" in caught.value.reason
    assert "MOTCUA_INPUT_MAX_MEGAPIXELS" in caught.value.reason


def _mixed(hostile: dict[str, Path], good: list[Path]) -> list[Path]:
    """Hostile files with the good ones between them: first, in the middle and last."""
    bad = [hostile[name] for name in sorted(hostile)]
    middle = len(bad) // 2
    return [good[0], *bad[:middle], *good[1:-1], *bad[middle:], good[-1]]


def _errors(stderr: str, command: str) -> dict[str, str]:
    """{path: reason} from `motcua <command>: <path>: <reason>` lines."""
    prefix = f"motcua {command}: "
    out = {}
    for line in stderr.splitlines():
        if line.startswith(prefix) and ": " in line[len(prefix) :]:
            path, reason = line[len(prefix) :].split(": ", 1)
            out[path] = reason
    return out


def _assert_batch_answered_everything(
    run: subprocess.CompletedProcess[str], command: str, hostile: dict[str, Path]
) -> dict[str, str]:
    assert run.returncode == ExitCode.bad_input, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert "internal error" not in run.stderr
    errors = _errors(run.stderr, command)
    for name, path in hostile.items():
        assert str(path) in errors, f"{name} got no answer from {command}"
    return errors


@pytest.mark.parametrize("command", ["ocr", "extract"])
def test_ocr_and_extract_batches_answer_every_file_and_process_the_good_ones(
    hostile: dict[str, Path], good: dict[str, Path], command: str
) -> None:
    files = _mixed(hostile, list(good.values()))
    run = motcua(command, "--json", *map(str, files))
    errors = _assert_batch_answered_everything(run, command, hostile)
    for name, fragment in {**REFUSALS, **DECODE_FAILURES}.items():
        assert fragment in errors[str(hostile[name])], (name, errors[str(hostile[name])])
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    results = [line for line in lines if line.get("ok") is not False]
    assert sorted(r["path"] for r in results) == sorted(str(p) for p in good.values())
    # every failed file has its error object on stdout too, with the reason stderr gives
    failed = {line["path"]: line for line in lines if line.get("ok") is False}
    assert sorted(failed) == sorted(str(p) for p in hostile.values())
    for path, line in failed.items():
        assert line["ok"] is False and line["error"] in errors[path], line
    by_path = {r["path"]: r for r in results}
    text = by_path[str(good["nfd"])]
    if command == "ocr":
        assert "CỘNG HÒA" in text["pages"][0]["text"]
    else:
        assert text["page_errors"] == []
    assert f"{len(hostile)} of {len(files)} input(s) failed" in run.stderr


def test_verify_batch_answers_every_file_and_reports_the_good_pdfs(
    hostile: dict[str, Path], good: dict[str, Path]
) -> None:
    pdfs = [good["pdf"], good["encrypted-empty-password"]]
    run = motcua("verify", *map(str, _mixed(hostile, pdfs)))
    errors = _assert_batch_answered_everything(run, "verify", hostile)
    assert "không phải tệp PDF" in errors[str(hostile["frames-400.tif"])]
    for pdf in pdfs:
        assert f"Tệp: {pdf}\n" in run.stdout
    assert run.stdout.count("Không có chữ ký.") == 2


def test_the_same_file_gets_the_same_answer_from_ocr_extract_and_verify(
    hostile: dict[str, Path],
) -> None:
    # every hostile file named .pdf (the ones `verify` takes), and the FIFO and the folder
    names = [name for name in hostile if name.endswith(".pdf")]
    files = [str(hostile[name]) for name in names]
    answers = []
    for command in ("ocr", "extract", "verify"):
        run = motcua(command, *files)
        assert run.returncode == ExitCode.bad_input
        answers.append(_errors(run.stderr, command))
    assert answers[0] == answers[1] == answers[2]
    assert set(answers[0]) == set(files)


def test_user_text_is_never_read_as_markup(good: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "a[" / "x] [bold red]không có.png"
    run = motcua("extract", str(good["markup"]), str(missing))
    assert run.returncode == ExitCode.bad_input
    assert "Traceback" not in run.stderr
    assert str(good["markup"]) in run.stdout  # the table title, literally
    assert f"motcua extract: {missing}: không có tệp này" in run.stderr


def test_the_hot_folder_moves_a_fifo_to_failed_instead_of_blocking(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.mkfifo(inbox / "scan.pdf")
    (inbox / "ho-so").mkdir()
    os.mkfifo(inbox / "ho-so" / "cccd.jpg")
    write_good(inbox / "ho-so-tot")

    def intake(files: list[Path]) -> dict[str, Any]:
        for path in files:  # what the intake flow does first for every file (page_refs)
            check_file(path, InputLimits())
        return {"files": len(files)}

    folder = HotFolder(inbox, intake, stable_seconds=3)
    folder.ready_units(now=0.0)
    outcomes = {o.unit: o for u in folder.ready_units(now=10.0) if (o := folder.process(u))}
    assert set(outcomes) == {"scan.pdf", "ho-so", "ho-so-tot"}
    assert not outcomes["scan.pdf"].ok and "FIFO" in (outcomes["scan.pdf"].error or "")
    assert not outcomes["ho-so"].ok and "cccd.jpg" in (outcomes["ho-so"].error or "")
    assert outcomes["ho-so-tot"].ok and outcomes["ho-so-tot"].result == {"files": 6}
    report = json.loads((inbox / FAILED / "scan.pdf.report.json").read_text(encoding="utf-8"))
    assert not report["ok"] and "FIFO" in report["error"]
    assert (inbox / PROCESSED / "ho-so-tot").is_dir()


class _Upload:
    """An upload body in memory, as the web framework hands it over (a data holder)."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self._data = data

    async def read(self, size: int = -1) -> bytes:
        chunk, self._data = self._data[:size], self._data[size:]
        return chunk


def test_an_upload_beyond_a_limit_is_refused_by_the_client_name(
    hostile: dict[str, Path], tmp_path: Path
) -> None:
    from motcua.web.uploads import receive_upload

    data = hostile["blank-5000-pages.pdf"].read_bytes()
    with pytest.raises(InputFileError) as caught:
        asyncio.run(receive_upload(_Upload("ho-so.pdf", data), tmp_path, max_bytes=50 << 20))
    assert caught.value.path == "ho-so.pdf"
    assert "MOTCUA_INPUT_MAX_PAGES" in caught.value.reason
    assert list(tmp_path.iterdir()) == []  # nothing kept of a refused upload
