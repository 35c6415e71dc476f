"""OCR benchmark: motcua vs raw Tesseract vs OCRmyPDF on the same synthetic pages, same run.

For each degradation level (clean, scanned, harsh) the synthetic corpus (`samples/pages.py`)
renders N Vietnamese administrative pages with ground truth; each system reads them with 2 workers:
- raw:      `tesseract PAGE stdout -l vie`, two processes at a time;
- ocrmypdf: `ocrmypdf -l vie --deskew --clean --rotate-pages --sidecar`, two processes at a time;
- motcua:   `process_page` in a pool of 2 (what `ocr_document` / `motcua ocr --jobs 2` run).
CER and WER (jiwer) are on whitespace-normalised NFC text; s/page is wall time / pages, and
CPU s/page the CPU time of all processes involved / pages (steadier on a shared machine).
Targets: motcua CER ≤ OCRmyPDF CER on every level; motcua s/page ≤ 1.25 × raw s/page (over all
pages; per level too in the printout). Exit status 1 when a target is not met.

Then `bench/ocr_cli.py` measures `motcua ocr` as a user runs it (start-up on one file, many
one-page files, one many-page PDF) against raw Tesseract on the same pages (`--no-cli` skips it).

    .venv/bin/python bench/ocr.py [--pages 6] [--levels clean,scanned,harsh] [--no-cli]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["OMP_THREAD_LIMIT"] = "1"

import cv2  # noqa: E402
import jiwer  # noqa: E402

from extractors.ocr.correct import compounds, correct_words, page_text  # noqa: E402
from extractors.ocr.document import OcrOptions, new_pool, process_page  # noqa: E402
from extractors.ocr.lexicon import syllables  # noqa: E402
from extractors.ocr.model import OcrPage  # noqa: E402
from extractors.ocr.sources import PageRef, page_refs  # noqa: E402
from extractors.ocr.stamps import stamp_boxes  # noqa: E402
from extractors.ocr.textlayer import judge  # noqa: E402
from samples.pages import LEVELS, corpus, write_image  # noqa: E402

WORKERS = 2


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def raw_tesseract(path: Path) -> str:
    out = subprocess.run(
        ["tesseract", str(path), "stdout", "-l", "vie"], capture_output=True, text=True, check=True
    )
    return out.stdout


def ocrmypdf(path: Path) -> str:
    work = Path(tempfile.mkdtemp(prefix="bench-ocrmypdf-"))
    try:
        sidecar = work / "out.txt"
        subprocess.run(
            ["ocrmypdf", "-l", "vie", "--deskew", "--clean", "--rotate-pages", "-j", "1",
             "--sidecar", str(sidecar), "-q", str(path), str(work / "out.pdf")],
            capture_output=True,
            text=True,
            check=True,
        )  # fmt: skip
        return re.sub(r"\f", "\n", sidecar.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (tesseract, pool workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_threads(reader: Callable[[Path], str], files: list[Path]) -> list[str]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(reader, files))


READ_PAGES: list[OcrPage] = []  # motcua's pages of the run, for the extra-pass costs
WORKER_CPU: list[float] = []  # CPU s the pool workers spent per page (they are not our children)


def timed_page(ref: PageRef, options: OcrOptions) -> tuple[OcrPage, float]:
    """`process_page` and the CPU time it took in the worker, its Tesseract runs included."""
    before = cpu_seconds()
    page = process_page(ref, options)
    return page, cpu_seconds() - before


def run_motcua(files: list[Path]) -> list[str]:
    options = OcrOptions(jobs=WORKERS)
    pool = new_pool(options)
    try:
        refs = [page_refs(f)[0] for f in files]
        # pebble's map answers a future whose result iterates over the pages
        done = list(pool.map(timed_page, refs, [options] * len(refs)).result())
        READ_PAGES.extend(page for page, _ in done)
        WORKER_CPU.extend(cpu for _, cpu in done)
        return [page.text for page, _ in done]
    finally:
        pool.close()
        pool.join()


def stamp_search(path: Path) -> float:
    """CPU s of the red-stamp search on a page (mask and frames: what a colour page with no
    framed stamp costs; a found stamp adds one small Tesseract run)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    started = time.process_time()
    stamp_boxes(image, 300)
    return time.process_time() - started


def extra_passes(
    pages: list[OcrPage], stamp_seconds: list[float], ocr_cpu_per_page: float
) -> list[str]:
    """CPU cost per page of the passes motcua adds to an OCR'd page: post-OCR correction
    (`correct_words` + page text), the red-stamp search (colour pages) and the text-layer
    judgement by language (every PDF page with a layer), against motcua's OCR CPU s/page of
    the same run. The word lists load once per worker process; that is shown apart."""
    t0 = time.process_time()
    syllables()
    compounds()
    load = time.process_time() - t0
    t0 = time.process_time()
    for page in pages:
        words = tuple(replace(w, text=w.raw_text or w.text, raw_text=None) for w in page.words)
        page_text(correct_words(words))
    correct = (time.process_time() - t0) / len(pages)
    t0 = time.process_time()
    for page in pages:
        judge(page.raw_text or page.text)
    judged = (time.process_time() - t0) / len(pages)
    stamps = sum(stamp_seconds) / max(1, len(stamp_seconds))
    share = (correct + judged + stamps) / ocr_cpu_per_page
    return [
        f"extra passes per page: correction {1000 * correct:.1f} ms, text-layer judgement "
        f"{1000 * judged:.1f} ms, red-stamp search {1000 * stamps:.1f} ms; "
        f"motcua OCR {ocr_cpu_per_page:.2f} CPU s/page; "
        f"extra = {100 * share:.1f}% (target <= 15%: {'met' if share <= 0.15 else 'NOT met'}); "
        f"word lists load once per worker: {1000 * load:.0f} ms"
    ]


def score(truths: list[str], texts: list[str]) -> tuple[float, float]:
    reference = [normalise(t) for t in truths]
    hypothesis = [normalise(t) for t in texts]
    return float(jiwer.cer(reference, hypothesis)), float(jiwer.wer(reference, hypothesis))


Row = tuple[str, str, float, float, float, float]  # level, system, CER, WER, s/page, CPU s/page


def measure(level: str, files: list[Path], truths: list[str], system: str) -> Row:
    wall, cpu = time.perf_counter(), cpu_seconds()
    if system == "raw":
        texts = run_threads(raw_tesseract, files)
    elif system == "ocrmypdf":
        texts = run_threads(ocrmypdf, files)
    else:
        texts = run_motcua(files)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    if system == "motcua":
        cpu += sum(WORKER_CPU[-len(files) :])
    cer, wer = score(truths, texts)
    return (level, system, cer, wer, wall / len(files), cpu / len(files))


def verdicts(rows: list[Row], levels: list[str], systems: list[str]) -> list[str]:
    by = {(row[0], row[1]): row for row in rows}
    out = []
    if {"motcua", "ocrmypdf"} <= set(systems):
        ok = all(by[(lv, "motcua")][2] <= by[(lv, "ocrmypdf")][2] for lv in levels)
        out.append(f"CER motcua <= OCRmyPDF on every level: {'met' if ok else 'NOT met'}")
    if {"motcua", "raw"} <= set(systems):
        for column, name in ((4, "s/page"), (5, "CPU s/page")):
            ratio = sum(by[(lv, "motcua")][column] for lv in levels) / sum(
                by[(lv, "raw")][column] for lv in levels
            )
            per_level = ", ".join(
                f"{lv} {by[(lv, 'motcua')][column] / by[(lv, 'raw')][column]:.2f}" for lv in levels
            )
            out.append(
                f"{name} motcua / raw = {ratio:.2f} over all pages ({per_level}); "
                f"target <= 1.25: {'met' if ratio <= 1.25 else 'NOT met'}"
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages per level")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--systems", default="raw,ocrmypdf,motcua")
    parser.add_argument("--no-cli", action="store_true", help="skip bench/ocr_cli.py")
    args = parser.parse_args()
    systems = args.systems.split(",")
    levels = args.levels.split(",")
    work = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    rows: list[Row] = []
    stamp_seconds: list[float] = []
    try:
        for level in levels:
            files, truths = [], []
            for i, page in enumerate(corpus(level, args.pages, args.seed)):  # type: ignore[arg-type]
                path = work / f"{level}-{i:02d}.png"
                write_image(page.image, str(path), page.dpi)
                files.append(path)
                stamp_seconds.append(stamp_search(path))
                truths.append(page.text)
            for system in systems:
                rows.append(measure(level, files, truths, system))
                _, _, cer, wer, spp, cpp = rows[-1]
                print(
                    f"  {level:8s} {system:9s} CER {cer:.4f}  WER {wer:.4f}  "
                    f"{spp:.2f} s/page  {cpp:.2f} CPU s/page",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nOCR benchmark: {args.pages} pages per level, {WORKERS} workers, "
        "tesseract OMP_THREAD_LIMIT=1\n"
    )
    print(f"{'level':8s} {'system':9s} {'CER':>7s} {'WER':>7s} {'s/page':>7s} {'CPU s/p':>8s}")
    for level, system, cer, wer, spp, cpp in rows:
        print(f"{level:8s} {system:9s} {cer:7.4f} {wer:7.4f} {spp:7.2f} {cpp:8.2f}")
    found = verdicts(rows, levels, systems)
    if READ_PAGES:
        motcua = [row for row in rows if row[1] == "motcua"]
        found += extra_passes(READ_PAGES, stamp_seconds, sum(r[5] for r in motcua) / len(motcua))
    print("\n" + "\n".join(found))
    missed = any("NOT met" in line for line in found)
    if not args.no_cli:
        import ocr_cli

        sys.argv = [sys.argv[0]]
        missed = ocr_cli.main() != 0 or missed
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
