"""`motcua ocr` as a user runs it, against raw Tesseract on the same pages and cores, same run.

Three shapes of work, wall time and the CPU time of every process involved:
- one one-page file: `motcua ocr FILE` against `tesseract FILE stdout -l vie` (start-up cost;
  target: at most 0.5 s more);
- many one-page files: `motcua ocr --jobs 2 F1 … Fn` against the same pages through two
  Tesseract processes at a time (target: within 1.25× of raw wall time);
- one many-page PDF: `motcua ocr --jobs 2 DOC.pdf` against its pages' images through two
  Tesseract processes at a time (target: within 1.25×).
Each figure is the best of `--repeat` runs (the machine is shared; the minimum is the steadiest).

    .venv/bin/python bench/ocr_cli.py [--files 15] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["OMP_THREAD_LIMIT"] = "1"

from PIL import Image  # noqa: E402

from samples.pages import corpus, write_image  # noqa: E402

WORKERS = 2
MOTCUA = [sys.executable, "-m", "motcua"]


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(work: Callable[[], None], repeat: int) -> tuple[float, float]:
    """Best wall time and the CPU time of that run's child processes."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        cpu, start = children_cpu(), time.perf_counter()
        work()
        wall = time.perf_counter() - start
        if wall < best[0]:
            best = (wall, children_cpu() - cpu)
    return best


def tesseract(path: Path) -> None:
    subprocess.run(["tesseract", str(path), "stdout", "-l", "vie"], capture_output=True,
                   check=True)  # fmt: skip


def raw_pair(files: list[Path]) -> None:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(tesseract, files))


def motcua_ocr(*args: str) -> None:
    done = subprocess.run([*MOTCUA, "ocr", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"motcua ocr failed ({done.returncode}): {done.stderr[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=15, help="one-page files (and PDF pages)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ocr-cli-"))
    try:
        files = []
        for i, page in enumerate(corpus("scanned", args.files, args.seed)):
            path = work / f"page-{i:02d}.png"
            write_image(page.image, str(path), page.dpi)
            files.append(path)
        images = [Image.open(p).convert("RGB") for p in files]
        pdf = work / "many-pages.pdf"
        images[0].save(pdf, save_all=True, append_images=images[1:], resolution=300.0)
        names = [str(p) for p in files]
        rows = [
            ("one 1-page file", timed(lambda: tesseract(files[0]), args.repeat),
             timed(lambda: motcua_ocr(names[0]), args.repeat), "+0.5 s"),
            (f"{len(files)} 1-page files", timed(lambda: raw_pair(files), args.repeat),
             timed(lambda: motcua_ocr("--jobs", str(WORKERS), *names), args.repeat), "1.25×"),
            (f"one {len(files)}-page PDF", timed(lambda: raw_pair(files), args.repeat),
             timed(lambda: motcua_ocr("--jobs", str(WORKERS), str(pdf)), args.repeat), "1.25×"),
        ]  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nmotcua ocr against raw Tesseract, {WORKERS} processes, best of {args.repeat}\n")
    print(f"{'work':20s} {'raw s':>7s} {'raw CPU':>8s} {'motcua s':>9s} {'motcua CPU':>11s} "
          f"{'ratio':>6s} {'extra s':>8s}  target")  # fmt: skip
    missed = []
    for name, (raw_wall, raw_cpu), (ours_wall, ours_cpu), target in rows:
        ratio, extra = ours_wall / raw_wall, ours_wall - raw_wall
        met = extra <= 0.5 if target.startswith("+") else ratio <= 1.25
        print(f"{name:20s} {raw_wall:7.2f} {raw_cpu:8.2f} {ours_wall:9.2f} {ours_cpu:11.2f} "
              f"{ratio:6.2f} {extra:8.2f}  {target} {'met' if met else 'NOT met'}")  # fmt: skip
        if not met:
            missed.append(name)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
