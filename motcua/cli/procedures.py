"""`motcua procedures import FILE`: an office's own procedures from a CSV or JSON catalogue.

The command joins the `procedures` group of `motcua.cli.dossier` (this module's `commands` is
empty: attaching is its import's side effect, as `motcua.cli.issue` does for `dossier`). The
layout of the files is in dossiers/procedures/importing.py and the README.
"""

from __future__ import annotations

from pathlib import Path

import click

from motcua.cli import AppContext
from motcua.cli.dossier import procedures_group


@procedures_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace the office's procedures of the same key.")
@click.pass_obj
def import_procedures(app: AppContext, file: Path, replace: bool) -> None:
    """Validate FILE (.csv or .json) and add its procedures to MOTCUA_HOME/procedures.

    Nothing is written when any row is invalid (exit 2; each error names the row and column).
    """
    from dossiers.procedures.importing import import_catalogue

    home = app.settings.home
    imported = import_catalogue(file, home, replace=replace)
    for item in imported:
        verb = "replaced" if item.replaced else "added"
        click.echo(f"{verb} {item.procedure.key:<34} {item.procedure.national_code}  {item.path}")
    app.err.print(f"{len(imported)} procedure(s) imported into {home / 'procedures'}")


commands: list[click.Command] = []
