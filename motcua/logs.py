"""Logging through the standard library: one grep-friendly line per event, personal data redacted.

Lines look like `2026-11-22T03:30:00Z WARNING storage.server: message`. A filter masks anything
shaped like a citizen-ID or old ID-card number, as a safety net behind the rule that code never
logs personal data in the first place.
"""

from __future__ import annotations

import logging
import re
import time

# A run of 9 to 12 digits standing alone: not inside a longer run, nor inside a hex or
# alphanumeric id (record ids and S3 version ids must stay whole to be grepped).
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{3,6}(\d{3})(?![0-9A-Za-z])")


class RedactPersonalData(logging.Filter):
    """Mask 9- and 12-digit numbers (CMND/CCCD) in log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _ID_RE.sub(lambda m: m.group(1) + "***" + m.group(2), message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class ReportedElsewhere(logging.Filter):
    """Drop Prefect's record of a flow or task that failed with a `MotcuaError`: the command
    reports that error itself, as one readable line (the Prefect API still gets the record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("prefect") or not record.exc_info:
            return True
        from motcua.errors import MotcuaError

        return not isinstance(record.exc_info[1], MotcuaError)


class _UtcFormatter(logging.Formatter):
    def __init__(self, fmt: str, *, tracebacks: bool) -> None:
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not (record.exc_info or record.exc_text):
            return super().format(record)
        # Tracebacks are for --debug; a copy, so other handlers still see the original.
        bare = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(bare)


def configure_logging(level: str | int = "WARNING", *, tracebacks: bool = False) -> None:
    """One handler on the root logger: redacted lines, tracebacks only when asked for."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        _UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", tracebacks=tracebacks)
    )
    handler.addFilter(RedactPersonalData())
    if not tracebacks:
        handler.addFilter(ReportedElsewhere())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_motcua", False):
            root.removeHandler(old)
    handler._motcua = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
