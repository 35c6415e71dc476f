"""Prefect set-up: embedded by default, quiet, and tolerant of a first run's migrations.

Call `configure_prefect()` before the first `import prefect` in a process: Prefect reads its
settings from the environment when it is imported. Values a user set explicitly are kept.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

_QUIET_LOGGERS = ("prefect", "prefect.server", "uvicorn", "uvicorn.error", "httpx", "alembic")


def configure_prefect(home: Path, api_url: str | None = None, *, verbose: bool = False) -> None:
    """Point Prefect at `home/prefect` (embedded) or at `api_url`, and quieten it."""
    if "prefect" in sys.modules:
        # Prefect's settings are already read; changing the environment now would half-apply.
        logging.getLogger(__name__).debug("prefect already imported; settings left as they are")
    defaults = {
        "PREFECT_HOME": str(Path(home) / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_LOG_PRINTS": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_CLI_COLORS": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    }
    if not verbose:
        # Prefect's records reach motcua's own handler through the root logger (one format,
        # redacted, no tracebacks); its console handler would print them a second time.
        # Run logs still reach the Prefect API.
        defaults["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    if not verbose:
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        # The ephemeral server logs cancelled background services as errors when it stops.
        logging.getLogger("prefect.server.services").setLevel(logging.CRITICAL)
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
