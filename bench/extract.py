"""Benchmark field extraction on generated documents with ground truth.

    .venv/bin/python bench/extract.py [--count 60] [--seed 1] [--out results.json]

Documents come from `samples/documents.py`: card photos (desk, skew, perspective, uneven
light, JPEG), birth-registration declarations and official documents, cycling the OCR
benchmark's levels (clean / scanned / harsh). Each is written to a file and read back through
`extract_fields(path, kind="auto")`, the path a user takes.

Per kind and per field: exact-match rate (NFC, whitespace folded, names case-insensitive),
`needs_review` rate, silent errors (wrong and not flagged), missing fields; ID numbers exact or
flagged; kind recognition. Baseline in the same run: the silent-error rate if every extracted
value were trusted (no checks, no review flags) — what the checks buy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from extractors.fields import extract_fields  # noqa: E402
from motcua.types import nfc  # noqa: E402
from samples.documents import MAKERS, corpus  # noqa: E402

ID_KEYS = ("so_dinh_danh",)
NAME_KEYS = ("ho_ten", "nguoi_ky")


def _norm(key: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_norm(key, v) for v in value)
    text = " ".join(nfc(str(value)).split())
    return text.casefold() if key.endswith(NAME_KEYS) else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write per-field rows as JSON")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    kinds_ok: dict[str, list[bool]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (kind, seed, level) in enumerate(corpus(args.count, args.seed)):
            doc = MAKERS[kind](seed, level)
            path = Path(tmp) / f"{kind}-{seed}-{level}.{'jpg' if kind == 'cccd' else 'png'}"
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] if kind == "cccd" else []
            cv2.imwrite(str(path), doc.image, params)
            t0 = time.monotonic()
            result = extract_fields(path, kind="auto")
            seconds[kind].append(time.monotonic() - t0)
            kinds_ok[kind].append(result.kind == kind)
            for key, truth in doc.truth.items():
                got = result.fields.get(key)
                exact = got is not None and _norm(key, got.value) == _norm(key, truth)
                rows.append(
                    {
                        "kind": kind,
                        "level": level,
                        "seed": seed,
                        "key": key,
                        "exact": exact,
                        "missing": got is None,
                        "review": bool(got and got.needs_review),
                        "source": got.source if got else None,
                        "got": None if got is None else got.as_json()["value"],
                        "reasons": list(got.reasons) if got else [],
                        "truth": list(truth) if isinstance(truth, tuple) else truth,
                    }
                )
            bad = [
                r["key"]
                for r in rows[-len(doc.truth) :]
                if not r["exact"] and not r["review"] and not r["missing"]
            ]
            print(
                f"[{n + 1}/{args.count}] {kind:18} {level:8} {seconds[kind][-1]:5.1f}s "
                f"kind={'ok' if result.kind == kind else result.kind}"
                f"{'  SILENT: ' + ', '.join(bad) if bad else ''}",
                file=sys.stderr,
            )
    total = time.monotonic() - started
    _report(rows, kinds_ok, seconds, total)
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.1f}%" if whole else "     -"


def _line(name: str, group: list[dict[str, Any]]) -> str:
    n = len(group)
    exact = sum(r["exact"] for r in group)
    review = sum(r["review"] for r in group)
    silent = sum(1 for r in group if not r["exact"] and not r["review"] and not r["missing"])
    trusted = sum(1 for r in group if not r["exact"] and not r["missing"])
    missing = sum(r["missing"] for r in group)
    return (
        f"{name:34} {n:5} {_pct(exact, n)} {_pct(review, n)} {_pct(silent, n)} "
        f"{_pct(missing, n)} {_pct(trusted, n)}"
    )


def _report(
    rows: list[dict[str, Any]],
    kinds_ok: dict[str, list[bool]],
    seconds: dict[str, list[float]],
    total: float,
) -> None:
    header = (
        f"{'field':34} {'n':>5} {'exact':>7} {'review':>7} {'silent':>7} {'missing':>7} "
        f"{'base*':>7}"
    )
    print("\nField extraction benchmark (base* = silent errors if review flags were ignored)")
    print(header)
    print("-" * len(header))
    for kind in MAKERS:
        group = [r for r in rows if r["kind"] == kind]
        if not group:
            continue
        print(_line(f"[{kind}] all fields", group))
        for key in dict.fromkeys(r["key"] for r in group):
            print(_line(f"  {key}", [r for r in group if r["key"] == key]))
        for level in ("clean", "scanned", "harsh"):
            sub = [r for r in group if r["level"] == level]
            if sub:
                print(_line(f"  (level {level})", sub))
    print("-" * len(header))
    print(_line("ALL FIELDS", rows))
    ids = [r for r in rows if r["key"].endswith(ID_KEYS)]
    ok_or_flagged = sum(1 for r in ids if r["exact"] or r["review"] or r["missing"])
    print(
        f"ID numbers exact or flagged/missing: {ok_or_flagged}/{len(ids)} "
        f"({_pct(ok_or_flagged, len(ids)).strip()}); exact {sum(r['exact'] for r in ids)}"
    )
    docs = sum(len(v) for v in kinds_ok.values())
    right = sum(sum(v) for v in kinds_ok.values())
    print(f"kind recognition: {right}/{docs} ({_pct(right, docs).strip()})")
    for kind, times in seconds.items():
        print(
            f"  {kind:18} {len(times):3} docs, mean {sum(times) / len(times):5.1f}s/doc, "
            f"kind ok {sum(kinds_ok[kind])}/{len(kinds_ok[kind])}"
        )
    print(f"total {total:.0f}s")


if __name__ == "__main__":
    main()
