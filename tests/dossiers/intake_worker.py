"""A separate process taking dossiers in, for the concurrency test (not a test module).

usage: python intake_worker.py DB_URL LABEL COUNT START_AT_EPOCH
Warms up (imports, first connection), waits for START_AT, then takes dossiers in until it has
taken COUNT and the other process has too (so the two runs overlap whatever the scheduler does);
prints one dossier code per line. LABEL `same` takes in the same COUNT file sets as any other
`same` worker, printing `index code created` per line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.calendar import VN_TZ
from dossiers.models import DayCounter
from dossiers.procedures import load_catalogue
from dossiers.register import DocumentIn, DossierRegister

GIVE_UP_AFTER = 90.0  # seconds; the test fails on the counts if a worker gives up


def main() -> None:
    url, label, count, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    procedure = load_catalogue().get("chung-thuc-ban-sao")
    register = DossierRegister(url, unit_code="H40.29.10")
    received = dt.datetime(2026, 4, 24, 9, 0, tzinfo=VN_TZ)

    def total() -> int:
        with Session(register.engine) as session, session.begin():
            value = session.execute(select(DayCounter.last_number)).scalar_one_or_none()
            return int(value or 0)

    total()  # connect before the start line
    time.sleep(max(0.0, start_at - time.time()))  # both processes start together
    if label == "same":
        for i in range(count):
            digest = hashlib.sha256(f"same-{i}".encode()).hexdigest()
            document = DocumentIn(f"same-{i}.pdf", "ban-chinh", digest)
            result = register.intake(procedure, [document], received_at=received)
            print(i, result.dossier.code, result.created, flush=True)
        return
    give_up = time.time() + GIVE_UP_AFTER
    done = 0
    while time.time() < give_up and (done < count or total() - done < count):
        digest = hashlib.sha256(f"{label}-{done}".encode()).hexdigest()
        result = register.intake(
            procedure,
            [DocumentIn(f"{label}-{done}.pdf", "ban-chinh", digest)],
            received_at=received,
        )
        print(result.dossier.code, flush=True)
        done += 1
        # A clerk's next intake comes after some work (OCR, checks). Without any pause SQLite's
        # busy handler lets one process starve the other (it sleeps while the other re-locks).
        time.sleep(0.01)


if __name__ == "__main__":
    main()
