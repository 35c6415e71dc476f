"""The scanner hot folder: take in what office scanners save into a shared folder.

Units of work: each sub-folder of the watched folder is one dossier; a file directly in it (a
multi-page PDF per dossier, as many scanners write) is one dossier too. A unit is taken when all
its files have kept the same size and modification time for `stable_seconds`. After intake the
unit moves to `processed/` (or `failed/`) with a `<name>.report.json` beside it. Nothing is ever
deleted or overwritten: names that exist get a numeric suffix.

Restarting the watcher neither loses nor repeats work: a journal (`.motcua-watch/journal.jsonl`)
records each unit's fingerprint before and after intake; intake itself is idempotent on content
hashes, so a unit interrupted between the two is taken in again without a second dossier, and a
unit whose intake finished but was not yet moved is only moved.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motcua.errors import MotcuaError, ServiceUnavailableError

log = logging.getLogger(__name__)

PROCESSED, FAILED, STATE = "processed", "failed", ".motcua-watch"
_SKIP_NAMES = {PROCESSED, FAILED, STATE}
_PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", "~")

Intake = Callable[[list[Path]], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    unit: str
    ok: bool
    moved_to: Path
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _unit_files(unit: Path) -> list[Path]:
    # A FIFO or device is a unit (or part of one) too: the intake's input gate refuses it by
    # name, so it is moved to failed with a report instead of being skipped or blocking a read.
    if not unit.is_dir():
        return [unit]
    return sorted(
        p
        for p in unit.rglob("*")
        if not p.is_dir() and not p.name.startswith(".") and not p.name.endswith(_PARTIAL_SUFFIXES)
    )


def _snapshot(files: list[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in files:
        st = path.stat()
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        if not stat.S_ISREG(path.stat().st_mode):
            continue  # opening a FIFO for reading would wait for a writer forever
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _free_name(target_dir: Path, name: str) -> Path:
    candidate = target_dir / name
    stem, suffix = os.path.splitext(name)
    n = 1
    while candidate.exists() or candidate.with_name(candidate.name + ".report.json").exists():
        candidate = target_dir / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


class HotFolder:
    """Scan a folder, take in stable units, move them aside with a report."""

    def __init__(self, root: Path, intake: Intake, *, stable_seconds: float = 3.0) -> None:
        self.root = Path(root)
        self.intake = intake
        self.stable_seconds = stable_seconds
        self.state_dir = self.root / STATE
        self.journal = self.state_dir / "journal.jsonl"
        self._seen: dict[str, tuple[tuple[tuple[str, int, int], ...], float]] = {}
        for name in (PROCESSED, FAILED, STATE):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    # -- journal -------------------------------------------------------------------------------

    def _journal_entries(self) -> dict[str, dict[str, Any]]:
        """The last journal entry per fingerprint."""
        entries: dict[str, dict[str, Any]] = {}
        if self.journal.exists():
            for line in self.journal.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn last line after a crash
                entries[entry["fingerprint"]] = entry
        return entries

    def _record(self, **entry: Any) -> None:
        entry["at"] = time.time()
        with open(self.journal, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # -- scanning ------------------------------------------------------------------------------

    def units(self) -> Iterator[Path]:
        for entry in sorted(self.root.iterdir()):
            if entry.name in _SKIP_NAMES or entry.name.startswith("."):
                continue
            if entry.is_file() and entry.name.endswith(_PARTIAL_SUFFIXES):
                continue
            yield entry

    def ready_units(self, now: float | None = None) -> list[Path]:
        """Units whose files have not changed for `stable_seconds`."""
        now = time.monotonic() if now is None else now
        ready = []
        present = set()
        for unit in self.units():
            files = _unit_files(unit)
            if not files:
                continue
            key = str(unit)
            present.add(key)
            snap = _snapshot(files)
            previous = self._seen.get(key)
            if previous is None or previous[0] != snap:
                self._seen[key] = (snap, now)
            elif now - previous[1] >= self.stable_seconds:
                ready.append(unit)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return ready

    def process(self, unit: Path) -> Outcome | None:
        """Take in one unit; None when a service is down and the unit stays for a later try."""
        files = _unit_files(unit)
        fingerprint = _fingerprint(files)
        previous = self._journal_entries().get(fingerprint)
        if previous and previous.get("state") in {"done", "failed"}:
            ok = previous["state"] == "done"
            log.info(
                "unit %s was already %s before a restart; moving it", unit.name, previous["state"]
            )
            return self._finish(unit, ok, previous.get("result") or {}, previous.get("error"))
        self._record(fingerprint=fingerprint, unit=unit.name, state="started")
        try:
            result = self.intake(files)
        except ServiceUnavailableError as exc:
            log.warning("unit %s left for a later try: %s", unit.name, exc.message)
            self._seen.pop(str(unit), None)
            return None
        except MotcuaError as exc:
            self._record(fingerprint=fingerprint, unit=unit.name, state="failed", error=str(exc))
            return self._finish(unit, False, {}, str(exc))
        self._record(fingerprint=fingerprint, unit=unit.name, state="done", result=result)
        return self._finish(unit, True, result, None)

    def _finish(self, unit: Path, ok: bool, result: dict[str, Any], error: str | None) -> Outcome:
        target = _free_name(self.root / (PROCESSED if ok else FAILED), unit.name)
        shutil.move(str(unit), str(target))
        report = {"unit": unit.name, "ok": ok, "error": error, "result": result}
        report_path = target.with_name(target.name + ".report.json")
        report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        self._seen.pop(str(unit), None)
        return Outcome(unit.name, ok, target, result, error)

    def run(
        self,
        *,
        poll_seconds: float = 2.0,
        once: bool = False,
        on_outcome: Callable[[Outcome], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[Outcome]:
        """Poll until `should_stop()`; with `once`, stop when nothing is pending any more."""
        outcomes: list[Outcome] = []
        while not should_stop():
            for unit in self.ready_units():
                outcome = self.process(unit)
                if outcome is None:
                    continue
                outcomes.append(outcome)
                if on_outcome:
                    on_outcome(outcome)
            if once and not any(True for _ in self.units()):
                break
            time.sleep(poll_seconds)
        return outcomes
