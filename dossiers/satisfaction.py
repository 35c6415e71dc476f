"""The citizen's satisfaction (mức độ hài lòng): a rating 1-5 with an optional comment, once
per dossier, given at hand-over (`desk`) or from the public status page (`status-page`).

Offices are measured by it beside the on-time share (Decision 766/QĐ-TTg); `summarise` gives
the figures of a period for `motcua report` and its page. Comments are the citizen's words:
kept in `dossier_satisfaction` only, never in logs or the journal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dossiers.calendar import to_local
from dossiers.models import SatisfactionRow
from dossiers.public import in_session
from motcua.errors import BadArgumentError, CheckFailedError
from motcua.types import nfc

VIA = ("desk", "status-page")
MAX_COMMENT = 1000
SCORE_VI = {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường", 4: "Hài lòng",
            5: "Rất hài lòng"}  # fmt: skip


@dataclass(frozen=True)
class Rating:
    dossier_code: str
    procedure_key: str
    score: int
    comment: str | None
    via: str
    at: dt.datetime  # Vietnam time


def _rating(row: SatisfactionRow) -> Rating:
    return Rating(row.dossier_code, row.procedure_key, row.score, row.comment, row.via,
                  to_local(row.at))  # fmt: skip


def check_rating(score: int, comment: str | None) -> str | None:
    """The comment as stored (NFC, trimmed, None when empty); `BadArgumentError` otherwise."""
    if not 1 <= score <= 5:
        raise BadArgumentError(
            f"mức độ hài lòng {score} không hợp lệ", hint="chọn từ 1 (rất không hài lòng) đến 5"
        )
    text = nfc(comment.strip()) if comment and comment.strip() else None
    if text is not None and len(text) > MAX_COMMENT:
        raise BadArgumentError(f"góp ý dài quá {MAX_COMMENT} ký tự", hint="viết ngắn lại")
    return text


class Ratings:
    """Ratings in `dossier_satisfaction`, one per dossier."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def record(
        self, code: str, procedure_key: str, score: int, comment: str | None, *, via: str
    ) -> Rating:
        """Store the dossier's rating; `CheckFailedError` when it was rated already."""
        text = check_rating(score, comment)
        if via not in VIA:
            raise BadArgumentError(f"via {via!r}", hint="one of: " + ", ".join(VIA))
        row = SatisfactionRow(dossier_code=code, procedure_key=procedure_key, score=score,
                              comment=text, via=via, at=self._clock())  # fmt: skip

        def add(session: Session) -> Rating:
            session.add(row)
            session.flush()
            return _rating(row)

        try:
            return in_session(self.engine, add, "satisfaction")
        except IntegrityError:
            raise CheckFailedError(
                f"hồ sơ {code} đã được đánh giá", hint="mỗi hồ sơ chỉ đánh giá một lần"
            ) from None

    def get(self, code: str) -> Rating | None:
        def read(session: Session) -> Rating | None:
            row = session.get(SatisfactionRow, code)
            return None if row is None else _rating(row)

        return in_session(self.engine, read, "satisfaction")

    def given_between(self, date_from: dt.date, date_to: dt.date) -> list[Rating]:
        """Ratings given on the days [date_from, date_to] (Vietnam time), oldest first."""
        start = to_local(dt.datetime.combine(date_from, dt.time())).astimezone(dt.UTC)
        end = to_local(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))

        def read(session: Session) -> list[Rating]:
            rows = session.scalars(
                select(SatisfactionRow)
                .where(SatisfactionRow.at >= start, SatisfactionRow.at < end.astimezone(dt.UTC))
                .order_by(SatisfactionRow.at)
            )
            return [_rating(r) for r in rows]

        return in_session(self.engine, read, "satisfaction")


@dataclass(frozen=True)
class SatisfactionFigures:
    rated: int
    average: float | None  # None when nobody rated
    counts: dict[int, int] = field(default_factory=dict)  # score → how many
    satisfied: int = 0  # rated 4 or 5

    @property
    def satisfied_rate(self) -> float | None:
        return None if self.rated == 0 else self.satisfied / self.rated

    def to_json(self) -> dict[str, object]:
        return {
            "rated": self.rated,
            "average": None if self.average is None else round(self.average, 2),
            "counts": {str(k): self.counts.get(k, 0) for k in range(1, 6)},
            "satisfied_rate": self.satisfied_rate,
        }


@dataclass(frozen=True)
class SatisfactionReport:
    total: SatisfactionFigures
    by_procedure: dict[str, SatisfactionFigures]

    def to_json(self) -> dict[str, object]:
        return {
            **self.total.to_json(),
            "by_procedure": {k: v.to_json() for k, v in sorted(self.by_procedure.items())},
        }


def figures(ratings: Iterable[Rating]) -> SatisfactionFigures:
    scores = [r.score for r in ratings]
    counts = {k: scores.count(k) for k in range(1, 6)}
    return SatisfactionFigures(
        rated=len(scores),
        average=sum(scores) / len(scores) if scores else None,
        counts=counts,
        satisfied=counts[4] + counts[5],
    )


def summarise(ratings: Iterable[Rating]) -> SatisfactionReport:
    given = list(ratings)
    keys = sorted({r.procedure_key for r in given})
    return SatisfactionReport(
        figures(given), {k: figures(r for r in given if r.procedure_key == k) for k in keys}
    )
