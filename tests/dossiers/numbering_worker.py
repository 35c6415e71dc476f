"""A separate process allocating result numbers, for the concurrency test (not a test module).

usage: python numbering_worker.py DB_URL BOOK YEAR COUNT START_AT_EPOCH
Warms up (imports, first connection), waits for START_AT, allocates COUNT numbers of BOOK in
YEAR and prints one number per line.
"""

from __future__ import annotations

import sys
import time

from dossiers.numbering import allocate_result_number
from dossiers.register import create_register_engine


def main() -> None:
    url, book, year, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    start_at = float(sys.argv[5])
    engine = create_register_engine(url)
    with engine.connect():
        pass
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(count):
        print(allocate_result_number(engine, book, year).number, flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
