"""The services a flow run needs, built once per process from the settings.

Flow parameters stay plain (paths, keys, codes) so a Prefect worker on another machine can run
them; each process builds its own `Office` from its own `MOTCUA_*` settings through
`motcua.office.build_office`, the one builder every door uses. A process that holds its own
services already (the web server, whose settings may come from elsewhere) runs flows
inside `office_in_use(office)`: `current_office()` then returns that office in this context.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator

from motcua.office import Office, build_office
from motcua.settings import load_settings

__all__ = ["Office", "build_office", "current_office", "office_in_use"]


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
