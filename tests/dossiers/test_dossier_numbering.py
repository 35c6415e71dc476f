"""Result numbers: one book per symbol and year, never reused, safe under concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dossiers.numbering import (
    ResultNumber,
    ResultNumberRow,
    allocate_result_number,
    check_symbol,
    create_numbering_tables,
    numbers_of,
)
from dossiers.register import create_register_engine
from motcua.errors import BadArgumentError

WORKER = Path(__file__).with_name("numbering_worker.py")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_register_engine(db_url)
    create_numbering_tables(engine)
    yield engine
    engine.dispose()


def test_books_count_per_symbol_and_year(engine: Engine) -> None:
    first = allocate_result_number(engine, "TLKS", 2026)
    assert first == ResultNumber("TLKS", 2026, 1) and first.text == "1/TLKS"
    assert allocate_result_number(engine, "TLKS", 2026).text == "2/TLKS"
    assert allocate_result_number(engine, "XNTTHN", 2026).text == "1/XNTTHN"  # its own book
    assert allocate_result_number(engine, "TLKS", 2027).number == 1  # a new year starts again
    assert allocate_result_number(engine, "TLKS", 2026).number == 3
    assert allocate_result_number(engine, "TLKS", 2026).as_json() == {
        "book": "TLKS",
        "year": 2026,
        "number": 4,
        "text": "4/TLKS",
        "dossier_code": None,
    }


def test_a_dossier_keeps_its_number(engine: Engine) -> None:
    code = "H40.29.10-260424-0007"
    held = allocate_result_number(engine, "TLKS", 2026, dossier_code=code)
    other = allocate_result_number(engine, "TLKS", 2026, dossier_code="H40.29.10-260424-0008")
    assert (held.number, other.number) == (1, 2)
    again = allocate_result_number(engine, "TLKS", 2026, dossier_code=code)
    assert again == held  # re-rendering the result keeps the number; no new one is taken
    assert allocate_result_number(engine, "TLKS", 2026).number == 3
    copy = allocate_result_number(engine, "CT-BS", 2026, dossier_code=code)
    assert numbers_of(engine, code) == [held, copy]


def test_symbols_are_checked() -> None:
    assert check_symbol(" TLKS ") == "TLKS"
    assert check_symbol("ĐKKH") == "ĐKKH"
    assert check_symbol("CT-BS") == "CT-BS"
    for bad in ["", "tlks", "12/TLKS", "TL KS", "-TL"]:
        with pytest.raises(BadArgumentError, match="ký hiệu sổ"):
            check_symbol(bad)


def test_concurrent_threads_never_share_a_number(engine: Engine) -> None:
    per_thread, threads = 15, 6
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            mine = [allocate_result_number(engine, "TLKS", 2026).number for _ in range(per_thread)]
            with lock:
                got.extend(mine)
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(got) == list(range(1, per_thread * threads + 1))
    with Session(engine) as session:
        stored = session.execute(select(func.count()).select_from(ResultNumberRow)).scalar_one()
    assert stored == per_thread * threads


def test_concurrent_processes_never_share_a_number(engine: Engine, db_url: str) -> None:
    count = 20
    start_at = time.time() + 4.0  # both workers warm up first, then allocate together
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), db_url, "TLKS", "2026", str(count), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=180) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    numbers = [int(line) for out, _ in outputs for line in out.split()]
    assert sorted(numbers) == list(range(1, 2 * count + 1))
    for out, _ in outputs:  # each process saw its own numbers rise
        mine = [int(line) for line in out.split()]
        assert mine == sorted(mine) and len(mine) == count
