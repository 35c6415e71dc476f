"""The desk's own bookkeeping on a dossier: notes and who processes it.

Neither changes the dossier's status, so neither sends a webhook event; both are journaled (the
note as its id only: its text may name people and stays in `dossier_notes`). Which logins may
be assigned is the door's to check (the accounts live with the web application): the register
keeps the login.
"""

from __future__ import annotations

import re

from dossiers.notes import Note
from flows.dossier import Outcome, finish
from motcua.errors import BadArgumentError
from motcua.office import Office

_LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def add_note(office: Office, code: str, text: str, *, actor: str) -> Outcome:
    """Write a note on the dossier; the note itself is `office.notes.of(code)[-1]`."""
    dossier = office.register.get(code)  # an unknown code is refused before anything is stored
    note: Note = office.notes.add(dossier.code, text, author=actor)
    return finish(office, dossier, actor=actor, action="dossier.note_added",
                   details={"note_id": note.id}, event=False)  # fmt: skip


def assign(office: Office, code: str, assignee: str | None, *, actor: str) -> Outcome:
    """Assign the dossier to the officer `assignee` (a login), or to nobody with None/""."""
    login = (assignee or "").strip().lower() or None
    if login is not None and not _LOGIN_RE.match(login):
        raise BadArgumentError(f"“{assignee}” không phải tên đăng nhập", hint="chọn chuyên viên")
    before = office.register.get(code)
    if before.assignee == login:
        return Outcome(before, "dossier.assigned")
    dossier = office.register.assign(code, login)
    return finish(office, dossier, actor=actor, action="dossier.assigned",
                   details={"assignee": login, "previous_assignee": before.assignee},
                   event=False)  # fmt: skip
