"""Official letters: header fields and OCR line recall, motcua against raw Tesseract (same run).

    .venv/bin/python bench/letters.py [--generated 12] [--seed 3] [--no-ocrmypdf]

Documents: the real letters of `../shared/real-letters` when that folder exists (hand-checked
ground truth, see its README), and generated letters (`samples.documents.make_official`, the
Decree 30 layouts; every second one in the offices' layout, `real_layout=True`: a body without
a parent on two lines, old tone placement, red urgency or received stamps; levels clean /
scanned / harsh). `do_khan` is scored where the letter has an urgency stamp.

Fields, per header field: exact (the value is right), flagged (wrong or absent, and
`needs_review`), missing (absent), silent (wrong and not flagged: the outcome not accepted).
- motcua: `extract_fields(path, kind="van-ban")`, the path a user takes;
- raw:    the same templates over raw Tesseract (`tesseract -l vie`, its own words and order: no
  clean-up, no reading order, no post-OCR correction, no second read).
Values compare NFC, whitespace folded, old and new tone placement alike, names case-folded.

OCR line recall on the real letters: share of ground-truth lines found in the page text with
at most 10% character edits (rapidfuzz, the line against the best-matching stretch), and exactly;
motcua (`ocr_document`), the same pages before post-OCR correction (`raw_text`), raw Tesseract,
OCRmyPDF (`--deskew --clean --rotate-pages`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["OMP_THREAD_LIMIT"] = "1"

import cv2  # noqa: E402
from rapidfuzz import fuzz  # noqa: E402

from extractors.fields import extract_fields, extract_from_pages  # noqa: E402
from extractors.ocr import OcrPage, ocr_document  # noqa: E402
from extractors.ocr.engine import TesseractEngine, to_words  # noqa: E402
from extractors.ocr.lexicon import modern_tones  # noqa: E402
from extractors.ocr.sources import load_page, page_refs  # noqa: E402
from motcua.types import nfc  # noqa: E402
from samples.documents import make_official  # noqa: E402

REAL = ROOT.parent / "shared" / "real-letters"
HEADER_KEYS = (
    "co_quan_chu_quan",
    "co_quan_ban_hanh",
    "so_ky_hieu",
    "loai_van_ban",
    "dia_danh",
    "ngay_ban_hanh",
    "trich_yeu",
    "do_khan",
)
NAME_KEYS = ("nguoi_ky",)
LEVELS = ("clean", "scanned", "harsh")


def norm(key: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(norm(key, v) for v in value)
    text = modern_tones(" ".join(nfc(str(value)).split()))
    return text.casefold() if key in NAME_KEYS else text


def raw_page(path: Path) -> OcrPage:
    """Raw Tesseract's reading of a one-page file as an `OcrPage` (its words, its order)."""
    source = load_page(page_refs(path)[0])
    engine = TesseractEngine()
    found = engine.recognise(source.image, lang="vie", psm=3, dpi=round(source.dpi), timeout=0)
    words = to_words(found)
    lines: dict[int, list[str]] = defaultdict(list)
    for word in words:
        lines[word.line].append(word.text)
    height, width = source.image.shape[:2]
    text = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    return OcrPage(1, text, 0.0, width, height, words=words, dpi=round(source.dpi))


def score_fields(
    system: str, doc: str, truth: dict[str, Any], fields: dict[str, Any], rows: list[Any]
) -> None:
    for key in HEADER_KEYS:
        if key not in truth:
            continue
        got = fields.get(key)
        exact = got is not None and norm(key, got.value) == norm(key, truth[key])
        review = got is not None and got.needs_review
        rows.append(
            {
                "system": system,
                "doc": doc,
                "key": key,
                "exact": exact,
                "missing": got is None,
                "review": review,
                "silent": got is not None and not exact and not review,
                "got": None if got is None else got.as_json()["value"],
                "truth": truth[key],
            }
        )


def line_recall(truth_lines: list[str], text: str) -> tuple[float, float]:
    """(share of lines within 10% edits, share found exactly) in `text`."""
    flat = norm("", text)
    near = exact = 0
    for line in truth_lines:
        line = norm("", line)
        if line in flat:
            exact += 1
            near += 1
        elif fuzz.partial_ratio(line, flat) >= 90:
            near += 1
    return near / len(truth_lines), exact / len(truth_lines)


def _table(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    head = f"{'field':18} {'system':7} {'n':>3} {'exact':>6} {'flagged':>8} {'missing':>8}"
    head += f" {'silent':>7}"
    print(head)
    print("-" * len(head))
    for key in [*HEADER_KEYS, "ALL"]:
        for system in ("motcua", "raw"):
            group = [r for r in rows if r["system"] == system and (key == "ALL" or r["key"] == key)]
            if not group:
                continue
            n = len(group)
            exact = sum(r["exact"] for r in group)
            flagged = sum(1 for r in group if not r["exact"] and (r["review"] or r["missing"]))
            missing = sum(r["missing"] for r in group)
            silent = sum(r["silent"] for r in group)
            print(
                f"{key:18} {system:7} {n:3} {exact:6} {flagged:8} {missing:8} {silent:7}"
                f"   ({100 * exact / n:.0f}% exact, {100 * silent / n:.0f}% silent)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--generated", type=int, default=12, help="generated letters")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-ocrmypdf", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="rows as JSON")
    parser.add_argument("--verbose", action="store_true", help="print every wrong value")
    args = parser.parse_args()
    started = time.monotonic()
    real_rows: list[dict[str, Any]] = []
    gen_rows: list[dict[str, Any]] = []
    recall: list[tuple[str, str, float, float]] = []
    real = sorted(REAL.glob("*_fields.json")) if REAL.is_dir() else []
    for spec_path in real:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        image = REAL / spec["image"]
        truth = spec["fields"]
        score_fields(
            "motcua", image.name, truth, extract_fields(image, "van-ban").fields, real_rows
        )
        raw = raw_page(image)
        score_fields(
            "raw", image.name, truth, extract_from_pages([raw], "van-ban").fields, real_rows
        )
        lines = [
            line for line in image.with_name(image.stem + "_gt.txt").read_text("utf-8").splitlines()
            if line.strip()
        ]  # fmt: skip
        read = ocr_document(image)
        texts = {
            "motcua": read.text,
            # the same pages before post-OCR correction: what the correction buys
            "uncorrected": "\n".join(p.raw_text or p.text for p in read.pages),
            "raw": raw_text(image),
        }
        if not args.no_ocrmypdf:
            texts["ocrmypdf"] = ocrmypdf_text(image)
        for system, text in texts.items():
            near, exact = line_recall(lines, text)
            recall.append((image.name, system, near, exact))
        print(f"  real {image.name}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.generated):
            level = LEVELS[n % len(LEVELS)]
            real_layout = n % 2 == 1
            doc = make_official(args.seed + n, level, real_layout=real_layout)
            path = Path(tmp) / f"letter-{n}-{level}{'-offices' if real_layout else ''}.png"
            cv2.imwrite(str(path), doc.image)
            name = path.name
            score_fields(
                "motcua", name, doc.truth, extract_fields(path, "van-ban").fields, gen_rows
            )
            fields = extract_from_pages([raw_page(path)], "van-ban").fields
            score_fields("raw", name, doc.truth, fields, gen_rows)
            print(f"  generated {name}", file=sys.stderr, flush=True)
    if real_rows:
        _table(real_rows, f"Header fields, {len(real)} real letters ({REAL})")
    else:
        print(f"\n(no real letters: {REAL} not found)")
    _table(gen_rows, f"Header fields, {args.generated} generated letters")
    if args.verbose:
        for row in [*real_rows, *gen_rows]:
            if not row["exact"]:
                state = "silent" if row["silent"] else "flagged"
                print(f"  {row['system']:6} {row['doc']:34} {row['key']:16} {state:7} "
                      f"got {row['got']!r} want {row['truth']!r}")  # fmt: skip
    if recall:
        print("\nOCR line recall on the real letters (lines within 10% edits / exact)")
        systems = list(dict.fromkeys(s for _, s, _, _ in recall))
        print(f"{'letter':36} " + " ".join(f"{s:>17}" for s in systems))
        for name in dict.fromkeys(n for n, _, _, _ in recall):
            cells = {s: (a, b) for n, s, a, b in recall if n == name}
            print(
                f"{name:36} "
                + " ".join(f"{cells[s][0]:8.2f} / {cells[s][1]:.2f}   " for s in systems)
            )
        for system in systems:
            near = [a for _, s, a, _ in recall if s == system]
            exact = [b for _, s, _, b in recall if s == system]
            print(
                f"  {system:9} mean {sum(near) / len(near):.3f} near, "
                f"{sum(exact) / len(exact):.3f} exact"
            )
    if args.out:
        args.out.write_text(json.dumps([*real_rows, *gen_rows], ensure_ascii=False, indent=1))
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    return 0


def raw_text(path: Path) -> str:
    from ocr import raw_tesseract  # bench/ocr.py

    return raw_tesseract(path)


def ocrmypdf_text(path: Path) -> str:
    """OCRmyPDF's sidecar text, with the resolution the page reports (some scans carry none)."""
    import shutil
    import subprocess

    dpi = round(load_page(page_refs(path)[0]).dpi)
    work = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    try:
        sidecar = work / "out.txt"
        subprocess.run(
            ["ocrmypdf", "-l", "vie", "--deskew", "--clean", "--rotate-pages", "-j", "1",
             "--image-dpi", str(dpi), "--sidecar", str(sidecar), "-q", str(path),
             str(work / "out.pdf")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return sidecar.read_text(encoding="utf-8").replace("\f", "\n")
    except subprocess.CalledProcessError as exc:
        print(f"  ocrmypdf failed on {path.name}: {exc.stderr.strip()[-200:]}", file=sys.stderr)
        return ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
