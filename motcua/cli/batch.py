"""Batches of input files for `ocr`, `extract` and `verify`: every file gets its own outcome.

A file that cannot be used (refused by the input gate, damaged, or failing in a way no check
foresaw) becomes that file's error: printed on stderr (stdout keeps one result per good file,
so `--json` stays JSON Lines of results), counted, and the batch goes on. `Batch.finish` exits 2
when any file failed, else 1 when a check failed.
Only problems of the whole run (a missing program, an unreachable service, bad settings) stop it.
User text is printed as `rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from rich.text import Text

from motcua.cli import AppContext
from motcua.errors import ExitCode, InputFileError, MotcuaError

log = logging.getLogger("motcua.cli")
T = TypeVar("T")
HINT_REPORT = "tệp có thể bị hỏng; chạy lại với --debug và báo lỗi nếu tệp mở được nơi khác"


def as_file_error(path: Path, exc: Exception) -> InputFileError:
    """`exc` met while working on `path`, as that file's error (same text from every command)."""
    if isinstance(exc, InputFileError):
        return exc
    if isinstance(exc, MotcuaError):
        return InputFileError(path, exc.message, hint=exc.hint)
    return InputFileError(
        path,
        f"không xử lý được tệp (cannot process: {type(exc).__name__}: {exc})",
        hint=HINT_REPORT,
    )


def file_error_json(error: InputFileError) -> dict[str, object]:
    """A failed file's line in `--json` output."""
    return {"path": error.path, "ok": False, "error": error.reason, "hint": error.hint}


@dataclass
class Batch:
    """Counts the outcomes of one command over several files."""

    app: AppContext
    command: str
    as_json: bool = False
    json_indent: int | None = None  # as the command prints its results
    total: int = 0
    failed: int = 0
    checks_failed: int = 0

    def run(self, path: Path, work: Callable[[], T]) -> T | None:
        """`work()` for `path`; None when the file failed (then reported and counted)."""
        self.total += 1
        try:
            return work()
        except MotcuaError as exc:
            if exc.exit_code != ExitCode.bad_input:
                raise  # the whole run cannot go on (a program, a service, the settings)
            error = as_file_error(path, exc)
        except Exception as exc:  # an unforeseen failure is still only this file's
            log.debug("%s failed", self.command, exc_info=True)
            error = as_file_error(path, exc)
        self.fail(error)
        return None

    def fail(self, error: InputFileError) -> None:
        self.failed += 1
        self.say(f"{error}")
        if self.as_json:
            line = json.dumps(file_error_json(error), ensure_ascii=False, indent=self.json_indent)
            click.echo(line)

    def say(self, message: str) -> None:
        """A line on stderr, prefixed with the command, printed literally."""
        self.app.err.print(Text(f"motcua {self.command}: {message}"), highlight=False)

    def finish(self) -> None:
        """Exit 2 when a file failed, 1 when a check failed, else return."""
        if self.failed:
            self.say(
                f"{self.failed} of {self.total} input(s) failed"
                f" ({self.failed}/{self.total} tệp lỗi)"
            )
            raise click.exceptions.Exit(int(ExitCode.bad_input))
        if self.checks_failed:
            raise click.exceptions.Exit(int(ExitCode.check_failed))
