"""The services a flow run needs, built once per process from the settings.

Flow parameters stay plain (paths, keys, codes) so a Prefect worker on another machine can run
them; each process builds its own `Office` from its own `MOTCUA_*` settings. A process that holds
its own services already (the web server, whose settings may come from elsewhere) runs flows
inside `office_in_use(office)`: `current_office()` then returns that office in this context.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dossiers.forms.pdf import Office as PrintedOffice
from dossiers.procedures import Catalogue, load_catalogue
from dossiers.register import DossierRegister
from motcua.settings import Settings, load_settings
from storage.archive import Archive


@dataclass
class Office:
    """One office's settings and the library objects built from them."""

    settings: Settings
    register: DossierRegister
    catalogue: Catalogue
    printed: PrintedOffice
    _archive: Archive | None = None

    @property
    def archive(self) -> Archive:
        """The archive; building it starts the embedded object store when that is configured."""
        if self._archive is None:
            from motcua.services import archive

            self._archive = archive(self.settings)
        return self._archive

    def dossier_dir(self, code: str) -> Path:
        """Where the office's copies of a dossier's forms and results are written."""
        path = self.settings.home / "dossiers" / code
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def cores(self) -> int:
        return self.settings.ocr_jobs or max(1, len(os.sched_getaffinity(0)))


def build_office(settings: Settings) -> Office:
    settings.home.mkdir(parents=True, exist_ok=True)
    register = DossierRegister(settings.effective_catalog_url, unit_code=settings.unit_code)
    register.create_tables()
    printed = PrintedOffice(
        name=settings.office_name,
        parent=settings.office_parent,
        place=settings.office_place,
        unit_code=settings.unit_code,
    )
    return Office(settings, register, load_catalogue(), printed)


@functools.cache
def _process_office() -> Office:
    return build_office(load_settings())


_IN_USE: contextvars.ContextVar[Office | None] = contextvars.ContextVar(
    "motcua_office_in_use", default=None
)


class _CurrentOffice:
    """`current_office()`: the office in use in this context, else the process's own (settings
    read once; `current_office.cache_clear()` reads them again)."""

    def __call__(self) -> Office:
        return _IN_USE.get() or _process_office()

    def cache_clear(self) -> None:
        _process_office.cache_clear()


current_office = _CurrentOffice()


@contextlib.contextmanager
def office_in_use(office: Office) -> Iterator[Office]:
    """Run the flows called in this context (and their tasks' threads) on `office`."""
    token = _IN_USE.set(office)
    try:
        yield office
    finally:
        _IN_USE.reset(token)
