"""Dossier codes: the format of Circular 01/2018 Art. 19, and uniqueness across processes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dossiers.codes import format_code, parse_code
from dossiers.register import DossierRegister
from motcua.errors import BadArgumentError

WORKER = Path(__file__).with_name("intake_worker.py")


def test_format_and_parse() -> None:
    code = format_code("H40.29.10", dt.date(2026, 4, 24), 7)
    assert code == "H40.29.10-260424-0007"
    parsed = parse_code(code)
    assert (parsed.unit_code, parsed.day, parsed.number) == ("H40.29.10", dt.date(2026, 4, 24), 7)
    assert str(parsed) == code


@pytest.mark.parametrize(
    "bad", ["H40.29.10-260424-007", "H40.29.10-261324-0001", "H40 29-260424-0001", "x-1", ""]
)
def test_malformed_codes(bad: str) -> None:
    with pytest.raises(BadArgumentError):
        parse_code(bad)


def test_number_range() -> None:
    with pytest.raises(BadArgumentError):
        format_code("H40.29.10", dt.date(2026, 4, 24), 10000)
    with pytest.raises(BadArgumentError):
        format_code("H40-29", dt.date(2026, 4, 24), 1)


def test_two_processes_never_share_a_number(db_url: str) -> None:
    """Two processes take dossiers in at the same time: distinct, gap-free numbers."""
    DossierRegister(db_url, unit_code="H40.29.10").create_tables()
    start_at = time.time() + 4  # after both interpreters have imported everything
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), db_url, label, "20", str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in ("a", "b")
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    per_worker = [[parse_code(c).number for c in out.split()] for out, _ in outputs]
    assert all(len(numbers) >= 20 for numbers in per_worker)
    # The two processes really ran side by side: their numbers interleave.
    a, b = per_worker
    assert min(a) < max(b) and min(b) < max(a)
    numbers = sorted(a + b)
    assert numbers == list(range(1, len(numbers) + 1))  # no number twice, none skipped
    codes = [c for out, _ in outputs for c in out.split()]
    assert {parse_code(c).day for c in codes} == {dt.date(2026, 4, 24)}


def test_two_processes_taking_in_the_same_files_make_one_dossier_each(db_url: str) -> None:
    """Re-intake racing the first intake: one dossier per file set, no number used up."""
    DossierRegister(db_url, unit_code="H40.29.10").create_tables()
    start_at = time.time() + 4
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), db_url, "same", "30", str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    seen: dict[str, set[str]] = {}
    created = 0
    for out, _ in outputs:
        for line in out.splitlines():
            index, code, was_created = line.split()
            seen.setdefault(index, set()).add(code)
            created += was_created == "True"
    assert len(seen) == 30
    assert all(len(codes) == 1 for codes in seen.values())  # both got the same dossier
    assert created == 30  # each file set created exactly once
    numbers = sorted(parse_code(next(iter(c))).number for c in seen.values())
    assert numbers == list(range(1, 31))  # a lost race gives its number back
