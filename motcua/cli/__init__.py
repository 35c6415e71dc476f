"""The `motcua` command line: one root group, one module per command group, errors caught here.

Each command group lives in its own module under `motcua.cli` and exposes `commands`, a list of
click commands; `_COMMAND_MODULES` names them. Heavy libraries are imported inside the command
functions so that `motcua --help` stays fast. `MotcuaError` subclasses become a message on stderr
and their exit code; anything else is reported as an internal error; `--debug` shows tracebacks.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from motcua import __version__
from motcua.errors import ExitCode, MotcuaError
from motcua.files import apply_private_umask, check_home
from motcua.logs import configure_logging
from motcua.memory import bound_allocator
from motcua.settings import Settings, load_settings

log = logging.getLogger("motcua.cli")

# The root group's commands, in help order, each with the module under motcua.cli that defines
# it. A command's module is imported only when the command runs (or the root help lists them
# all), so `motcua ocr` does not pay for the S3 client, Prefect or pyHanko.
_COMMANDS = {
    "demo": "demo",
    "intake": "intake",
    "watch": "intake",
    "services": "services",
    "config": "config",
    "archive": "archive",
    "pdfa": "pdfa",
    "dossier": "dossier",
    "report": "dossier",
    "procedures": "dossier",
    "forms": "forms",
    "ocr": "ocr",
    "sign": "sign",
    "verify": "sign",
    "pki": "sign",
    "trust-services": "sign",
    "signers": "signers",
    "extract": "extract",
    "serve": "web",
    "users": "web",
    "tokens": "web",
    "webhooks": "webhooks",
    "notices": "notices",
    "worker": "worker",
}
# Modules that add subcommands to the groups of `dossier` and `archive`: imported with them.
_EXTENDING = {"dossier": ("issue", "lifecycle", "procedures", "maintenance"),
              "archive": ("maintenance",)}  # fmt: skip


@dataclass
class AppContext:
    """What every command receives: settings (read lazily), flags, consoles."""

    config_file: Path | None
    debug: bool
    verbose: int
    out: Console = field(default_factory=lambda: Console(soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings


class _Root(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        added = [name for name in self.commands if name not in _COMMANDS]
        return [*_COMMANDS, *added]  # help order, not alphabetical

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            load_commands(_COMMANDS[cmd_name])
        return self.commands.get(cmd_name)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="motcua")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML settings file (default $MOTCUA_CONFIG or ~/.config/motcua/config.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, debug: bool, verbose: int) -> None:
    """motcua: scans in, signed and archived results out, for Vietnamese one-stop-shop offices."""
    level = "DEBUG" if debug or verbose >= 2 else "INFO" if verbose == 1 else None
    if config_file is not None:
        # Flows, jobs and child processes read their settings themselves: same file for all.
        os.environ["MOTCUA_CONFIG"] = str(config_file.resolve())
    app = AppContext(config_file=config_file, debug=debug, verbose=verbose)
    ctx.obj = app
    configure_logging(level or "WARNING", tracebacks=debug)
    apply_private_umask()  # before any file is made; inherited by servers, workers, flows
    if ctx.invoked_subcommand is not None and not ctx.resilient_parsing:
        try:
            home = app.settings.home
        except MotcuaError:
            return  # the command itself reports the bad settings
        check_home(home)


def load_commands(module_name: str) -> None:
    """Import `motcua.cli.<module_name>` (and the modules that extend its groups) and add its
    commands to the root group."""
    module = importlib.import_module(f"motcua.cli.{module_name}")
    for extending in _EXTENDING.get(module_name, ()):
        importlib.import_module(f"motcua.cli.{extending}")
    for command in module.commands:
        if command.name not in cli.commands:
            cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn every error into an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    apply_private_umask()
    bound_allocator()
    err = Console(stderr=True, soft_wrap=True)
    try:
        code = cli.main(args=args, prog_name="motcua", standalone_mode=False)
        sys.exit(int(code) if isinstance(code, int) else 0)
    except MotcuaError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[bold red]motcua:[/] {escape(str(exc))}", markup=True, highlight=False)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        err.print("motcua: interrupted")
        sys.exit(int(ExitCode.interrupted))
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.bad_input if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("motcua: interrupted")
        sys.exit(int(ExitCode.interrupted))
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        err.print(
            f"[bold red]motcua: internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "  → run again with --debug for details and report it",
            markup=True,
            highlight=False,
        )
        sys.exit(int(ExitCode.check_failed))
