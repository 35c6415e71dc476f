"""One exception hierarchy for the whole product, mapped to process exit codes.

Each error carries a message that tells the user what to do. Messages a clerk or archivist reads
are Vietnamese with an English gloss; developer-facing ones may be English only. The CLI catches
`MotcuaError` in one place (`motcua.cli`) and prints `str(error)`; a traceback reaching a user is
a bug. This module imports nothing from the project, so every library may raise these.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    check_failed = 1  # a verification, audit or validation found something wrong
    bad_input = 2  # an input file or argument cannot be used
    missing_dependency = 3  # a program, package or service is not available
    configuration = 4  # settings are invalid or inconsistent
    interrupted = 130


class MotcuaError(Exception):
    """Base class. `exit_code` decides the process status; `hint` says what to do next."""

    exit_code: ExitCode = ExitCode.check_failed

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class CheckFailedError(MotcuaError):
    """A verification or audit found a problem (a signature, a checksum, a record)."""

    exit_code = ExitCode.check_failed


class InputFileError(MotcuaError):
    """An input cannot be used: missing, empty, truncated, wrong type, encrypted, too large."""

    exit_code = ExitCode.bad_input

    def __init__(self, path: object, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint=hint)
        self.path = str(path)
        self.reason = reason


class BadArgumentError(MotcuaError):
    """A command-line argument or API parameter is invalid."""

    exit_code = ExitCode.bad_input


class MissingDependencyError(MotcuaError):
    """An external program, Python package, or font is not installed."""

    exit_code = ExitCode.missing_dependency


class ServiceUnavailableError(MotcuaError):
    """A service (object store, catalogue database, Prefect API, TSA, OCSP) cannot be reached."""

    exit_code = ExitCode.missing_dependency


class ConfigurationError(MotcuaError):
    """Settings are invalid, inconsistent or incomplete."""

    exit_code = ExitCode.configuration


class DraftChangedError(CheckFailedError):
    """A sign request named a draft (its SHA-256) that is no longer the current one: the signer
    previewed something else. HTTP 409 on the web (a `CheckFailedError`), exit 2 on the CLI."""

    exit_code = ExitCode.bad_input


class ArchivePendingError(ServiceUnavailableError):
    """A dossier was taken in (registered, receipt issued) but its papers could not be archived:
    it stays "chưa lưu trữ" until a later run archives it; the job is failed, not completed."""


class WrongPinError(BadArgumentError):
    """The PIN or password a leader typed does not open their own key. Its message is for the
    leader (Vietnamese, no path); the web shows it beside the PIN field."""
