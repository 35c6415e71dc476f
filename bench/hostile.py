"""Hostile input at scale: `motcua ocr`, `extract` and `verify` over the test PDFs of the pypdf,
pikepdf and pyHanko source distributions (fetched with pip at bench time, at the pinned versions)
plus the generated hostile and good files of `samples.hostile`.

Each file runs in its own process, so time and peak RSS are that file's: the larger of the
command's own peak (`os.wait4`) and the sampled sum over its whole process tree (every 50 ms,
psutil), since pages are read in pool processes the command starts. The table
gives, per command: the exit-code counts, tracebacks and "internal error" answers (both must be
0), total and slowest time, the largest peak RSS, and the files over the 1 GB or time limit.

    python bench/hostile.py [--limit N] [--commands ocr,extract,verify] [--jobs 2]

`--limit` takes N files from each source (a quick run); the time limit is the command's own
page timeout (settings, 120 s) plus start-up, per file.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
MOTCUA = Path(sys.executable).with_name("motcua")
SDISTS = ("pypdf", "pikepdf", "pyHanko")
RSS_LIMIT_MB = 1024
TIME_LIMIT_S = 150.0


@dataclass
class Tally:
    codes: dict[int, int] = field(default_factory=dict)
    tracebacks: list[str] = field(default_factory=list)
    internal: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    peak_mb: tuple[float, str] = (0.0, "")
    over: list[str] = field(default_factory=list)


def pinned(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.strip()
    raise SystemExit(f"{name} is not pinned in constraints.txt")


def fetch_corpus(folder: Path, limit: int | None) -> list[tuple[str, Path]]:
    """The sdists' PDFs (by source) and the generated hostile and good files."""
    sdists = folder / "sdist"
    sdists.mkdir(parents=True, exist_ok=True)
    specs = [pinned(name) for name in SDISTS]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         "-d", str(sdists), *specs],
        check=True,
        stderr=subprocess.DEVNULL,  # pip's notes about unused index locations
    )  # fmt: skip
    files: list[tuple[str, Path]] = []
    for archive in sorted(sdists.glob("*.tar.gz")):
        source = archive.name.split("-")[0].lower()
        out = folder / source
        taken = 0
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if not member.isfile() or not member.name.lower().endswith(".pdf"):
                    continue
                if limit is not None and taken >= limit:
                    break
                data = tar.extractfile(member)
                if data is None:
                    continue
                target = out / member.name.replace("/", "__")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())
                files.append((source, target))
                taken += 1
    sys.path.insert(0, str(ROOT))
    from samples.hostile import write_good, write_hostile

    for source, paths in (
        ("hostile", write_hostile(folder / "hostile")),
        ("good", write_good(folder / "good")),
    ):
        chosen = sorted(paths.values())[:limit] if limit is not None else sorted(paths.values())
        files.extend((source, p) for p in chosen)
    return files


def run_one(command: str, path: Path, home: Path) -> tuple[int, float, float, str]:
    """Exit code, seconds, peak RSS in MB and stderr of one `motcua COMMAND FILE`."""
    argv = [str(MOTCUA), command, str(path)]
    if command == "verify":
        argv.append("--offline")
    env = {**os.environ, "MOTCUA_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            raise
        finally:
            sampler.stop()
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return proc.returncode, seconds, max(usage.ru_maxrss / 1024, sampler.peak_mb), text


class TreeSampler(threading.Thread):
    """The peak of the summed RSS of a process and all its descendants, sampled."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._done.wait(0.05):
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in tree:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="files per source")
    parser.add_argument("--commands", default="ocr,extract,verify")
    parser.add_argument("--jobs", type=int, default=2, help="files run at once")
    args = parser.parse_args()
    console = Console(width=170)
    work = Path(tempfile.mkdtemp(prefix="motcua-hostile-"))
    try:
        files = fetch_corpus(work / "corpus", args.limit)
        console.print(f"{len(files)} files: " + ", ".join(
            f"{s} {sum(1 for x, _ in files if x == s)}" for s in dict.fromkeys(s for s, _ in files)
        ))  # fmt: skip
        table = Table(title="motcua over hostile and foreign PDFs (one process per file)")
        for column in ("command", "files", "exit codes", "tracebacks", "internal errors",
                       "total s", "slowest s", "peak RSS MB", f"over {RSS_LIMIT_MB} MB / "
                       f"{TIME_LIMIT_S:.0f} s"):  # fmt: skip
            table.add_column(column)
        failed = False
        for command in args.commands.split(","):
            tally = Tally()
            home = work / f"home-{command}"
            home.mkdir()
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                runs = {pool.submit(run_one, command, p, home): p for _, p in files}
                for future in concurrent.futures.as_completed(runs):
                    path = runs[future]
                    code, seconds, rss, err = future.result()
                    tally.codes[code] = tally.codes.get(code, 0) + 1
                    tally.seconds += seconds
                    tally.slowest = max(tally.slowest, (seconds, path.name))
                    tally.peak_mb = max(tally.peak_mb, (rss, path.name))
                    if "Traceback (most recent call last)" in err:
                        tally.tracebacks.append(path.name)
                    if re.search(r"internal error|lỗi nội bộ", err, re.IGNORECASE):
                        tally.internal.append(path.name)
                    if rss > RSS_LIMIT_MB or seconds > TIME_LIMIT_S:
                        tally.over.append(path.name)
            failed |= bool(tally.tracebacks or tally.internal or tally.over)
            table.add_row(
                command,
                str(len(files)),
                " ".join(f"{c}:{n}" for c, n in sorted(tally.codes.items())),
                str(len(tally.tracebacks)),
                str(len(tally.internal)),
                f"{tally.seconds:.0f}",
                f"{tally.slowest[0]:.1f} ({tally.slowest[1][:40]})",
                f"{tally.peak_mb[0]:.0f} ({tally.peak_mb[1][:40]})",
                str(len(tally.over)),
            )
            for label, names in (("traceback", tally.tracebacks), ("internal error",
                                 tally.internal), ("over a limit", tally.over)):  # fmt: skip
                for name in names[:10]:
                    console.print(f"  {command}: {label}: {name}", markup=False)
        console.print(table)
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
