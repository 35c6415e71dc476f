"""Notes on a dossier (ghi chú): what the desk and the officer want the next person to know — a
call with the citizen, the reason for a delay, a paper promised for tomorrow.

A note is written once and never edited (the timeline is a record); its text may name people,
so it stays in `dossier_notes`: the journal says only that a note was added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dossiers.calendar import to_local
from dossiers.models import NoteRow
from dossiers.public import in_session
from motcua.errors import BadArgumentError
from motcua.types import nfc

MAX_NOTE = 2000


@dataclass(frozen=True)
class Note:
    id: int
    dossier_code: str
    author: str  # an actor: user:<login>, cli:<os user>
    text: str
    at: dt.datetime  # Vietnam time

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "dossier_code": self.dossier_code, "author": self.author,
                "text": self.text, "at": self.at.isoformat()}  # fmt: skip


def check_note(text: str) -> str:
    """The note as stored (NFC, trimmed); `BadArgumentError` when empty or too long."""
    cleaned = nfc(text.strip())
    if not cleaned:
        raise BadArgumentError("ghi chú trống", hint="viết nội dung ghi chú")
    if len(cleaned) > MAX_NOTE:
        raise BadArgumentError(f"ghi chú dài quá {MAX_NOTE} ký tự", hint="viết ngắn lại")
    return cleaned


def _note(row: NoteRow) -> Note:
    return Note(row.id, row.dossier_code, row.author, row.text, to_local(row.at))


class Notes:
    """The notes in `dossier_notes`, oldest first per dossier."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def add(self, code: str, text: str, *, author: str) -> Note:
        row = NoteRow(dossier_code=code, author=author, text=check_note(text), at=self._clock())

        def add(session: Session) -> Note:
            session.add(row)
            session.flush()
            return _note(row)

        return in_session(self.engine, add, "notes")

    def of(self, code: str) -> list[Note]:
        def read(session: Session) -> list[Note]:
            rows = session.scalars(
                select(NoteRow).where(NoteRow.dossier_code == code).order_by(NoteRow.id)
            )
            return [_note(r) for r in rows]

        return in_session(self.engine, read, "notes")
