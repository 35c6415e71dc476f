"""A dossier's timeline as a reader wants it: who did what when, in Vietnamese, the notes among
the steps they explain.

It is read from the audit journal (every door journals the same entry) and the notes table
(the journal names a note by id; its text is in `dossier_notes`). A dossier that reached the
register by another way than a journaled door has no entries: the page keeps its status history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dossiers.calendar import to_local
from motcua.web.services import Services

MAX_ENTRIES = 500


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime  # Vietnam time
    who: str  # the person's name, or the system that acted
    what: str  # the action, in Vietnamese
    details: str  # "nhãn: giá trị; …", possibly empty
    note: str | None = None  # the note's text, for "Ghi chú"


def timeline(services: Services, code: str) -> list[TimelineEntry]:
    """The dossier's journal entries oldest first, each note's text beside its entry."""
    labels = services.journal_labels()
    notes = {note.id: note for note in services.core.notes.of(code)}
    entries = services.audit.entries(target_kind="dossier", target_id=code, limit=MAX_ENTRIES)
    out = []
    for entry in reversed(entries):
        note_id = entry.details.get("note_id") if entry.details else None
        note = notes.get(note_id) if isinstance(note_id, int) else None
        out.append(
            TimelineEntry(
                at=to_local(entry.at),
                who=labels.actor(entry.actor),
                what=labels.action(entry.action),
                details=labels.details(entry.details),
                note=note.text if note else None,
            )
        )
    return out
