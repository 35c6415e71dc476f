"""`motcua config`: show the effective settings, secrets masked."""

from __future__ import annotations

import json

import click

from motcua.cli import AppContext


@click.group("config")
def config_group() -> None:
    """Inspect settings (MOTCUA_* variables and the TOML file)."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app: AppContext, as_json: bool) -> None:
    """Print the effective settings with secrets masked."""
    view = app.settings.public_view()
    view["s3_mode"] = "embedded" if app.settings.embedded_s3 else "external"
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    width = max(len(k) for k in view)
    for key, value in view.items():
        click.echo(f"{key.ljust(width)}  {'' if value is None else value}")


commands = [config_group]
