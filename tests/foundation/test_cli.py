from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from motcua import __version__
from motcua.cli import cli, main
from motcua.errors import ExitCode, InputFileError
from motcua.logs import RedactPersonalData, configure_logging


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=120,
    )


def test_version_and_help(motcua_home: Path) -> None:
    assert run("--version").stdout.strip() == f"motcua, version {__version__}"
    help_text = run("--help").stdout
    for group in ("services", "config", "demo"):
        assert group in help_text


def test_bad_configuration_exits_4_without_traceback(
    motcua_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_UNIT_CODE", "bad code")
    result = run("config", "show")
    assert result.returncode == ExitCode.configuration
    assert "MOTCUA_UNIT_CODE" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_bad_input(motcua_home: Path) -> None:
    result = run("no-such-command")
    assert result.returncode == ExitCode.bad_input
    assert "Traceback" not in result.stderr


def _add_failing(name: str, error: Exception) -> None:
    @cli.command(name, hidden=True)
    def failing() -> None:
        raise error


def test_errors_map_to_exit_codes_and_debug_shows_traceback(
    motcua_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real command raising each error class through the real entry point.
    _add_failing("_fail-input", InputFileError("scan.pdf", "file is empty", hint="scan it again"))
    _add_failing("_fail-internal", RuntimeError("boom"))
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["_fail-input"])
        assert exit_info.value.code == ExitCode.bad_input
        err = capsys.readouterr().err
        assert "scan.pdf: file is empty" in err and "scan it again" in err
        assert "Traceback" not in err

        with pytest.raises(SystemExit) as exit_info:
            main(["_fail-internal"])
        assert exit_info.value.code == ExitCode.check_failed
        err = capsys.readouterr().err
        assert "internal error" in err and "--debug" in err and "Traceback" not in err

        with pytest.raises(SystemExit):
            main(["--debug", "_fail-internal"])
        assert "Traceback" in capsys.readouterr().err
    finally:
        for name in ("_fail-input", "_fail-internal"):
            cli.commands.pop(name, None)


def test_log_filter_redacts_id_numbers(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    configure_logging("INFO")
    logger = logging.getLogger("motcua.test")
    logger.addFilter(RedactPersonalData())
    with caplog.at_level(logging.INFO, logger="motcua.test"):
        logger.info("card %s and old id %s read", "001203004567", "123456789")
    assert "001203004567" not in caplog.text and "123456789" not in caplog.text
    assert "001***567" in caplog.text
    # Ids with digit runs inside stay whole; a number after a label is still masked.
    ids = "records/r75bb9ba8511588950aa7466a version 6713371678087201f360bd865b36d2dc"
    with caplog.at_level(logging.INFO, logger="motcua.test"):
        logger.info("kept %s; so_dinh_danh=%s, (%s)", ids, "079185001234", "123456789")
    assert ids in caplog.text
    assert "so_dinh_danh=079***234, (123***789)" in caplog.text


def test_every_registered_command_has_help() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, name


def test_log_lines_carry_no_tracebacks_unless_debugging(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    def log_failure(exc: Exception) -> str:
        try:
            raise exc
        except Exception:
            logging.getLogger("prefect.motcua_test").error("Encountered exception", exc_info=True)
        return capsys.readouterr().err

    try:
        configure_logging("WARNING")
        # a MotcuaError is the command's to report, as one line: Prefect's record is dropped
        assert log_failure(InputFileError("scan.pdf", "not an image or PDF")) == ""
        other = log_failure(RuntimeError("boom"))
        assert "ERROR prefect.motcua_test: Encountered exception" in other
        assert "Traceback" not in other
        configure_logging("WARNING", tracebacks=True)  # --debug
        assert "Traceback" in log_failure(InputFileError("scan.pdf", "not an image or PDF"))
    finally:
        configure_logging("WARNING")


def test_the_lazy_command_map_names_every_command_where_it_is_defined() -> None:
    import importlib
    import pkgutil

    import motcua.cli as package
    from motcua.cli import _COMMANDS

    defined = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"motcua.cli.{info.name}")
        for command in getattr(module, "commands", []):
            defined[command.name] = info.name
    assert defined == _COMMANDS


def test_a_command_imports_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "from motcua.cli import main\n"
        "try:\n"
        "    main(['ocr', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('minio', 'prefect', 'pyhanko', 'sqlalchemy', 'fastapi')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "[]"
    nested = run("dossier", "--help").stdout
    for sub in ("issue", "accept", "apologise"):  # subcommands added by the extending modules
        assert sub in nested, sub
