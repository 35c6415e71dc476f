"""`motcua services up|down|status`: the embedded object store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from motcua.cli import AppContext
from motcua.errors import ConfigurationError

if TYPE_CHECKING:
    from storage.server import EmbeddedS3Server


def _server(app: AppContext) -> EmbeddedS3Server:
    from motcua.services import embedded_s3

    if not app.settings.embedded_s3:
        raise ConfigurationError(
            f"MOTCUA_S3_ENDPOINT is set ({app.settings.s3_endpoint}): no embedded store is used",
            hint="unset MOTCUA_S3_ENDPOINT to use the embedded object store",
        )
    return embedded_s3(app.settings)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{size} B"
        value /= 1024
    return f"{size} B"


@click.group("services")
def services_group() -> None:
    """Start, stop and inspect the embedded object store (when MOTCUA_S3_ENDPOINT is unset)."""


@services_group.command("up")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for S3.")
@click.pass_obj
def up(app: AppContext, timeout: float) -> None:
    """Start the object store on 127.0.0.1 and wait until its S3 API answers."""
    server = _server(app)
    with app.err.status("starting the object store…"):
        config = server.up(timeout=timeout)
    status = server.status()
    click.echo(
        f"object store running: {status.kind} {status.version} at {config.endpoint}"
        f" (pid {status.pid}, data {status.data_dir})"
    )


@services_group.command("down")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds before SIGKILL.")
@click.pass_obj
def down(app: AppContext, timeout: float) -> None:
    """Stop the object store that motcua started."""
    server = _server(app)
    with app.err.status("stopping the object store (SeaweedFS can take ~30 s)…"):
        stopped = server.down(timeout=timeout)
    click.echo("object store stopped" if stopped else "object store was not running")


@services_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(app: AppContext, as_json: bool) -> None:
    """Show endpoint, pid, version and disk use. Exit 1 when it is not running."""
    info = _server(app).status()
    if as_json:
        click.echo(json.dumps(info.as_dict(), indent=2))
    else:
        click.echo(f"state     {'running' if info.running else 'stopped'}")
        click.echo(f"server    {info.kind or '-'} {info.version or ''}".rstrip())
        click.echo(f"endpoint  {info.endpoint or '-'}")
        click.echo(f"pid       {info.pid or '-'}")
        click.echo(f"data      {info.data_dir} ({_human(info.disk_bytes)})")
        click.echo(f"log       {info.log_file}")
    if not info.running:
        raise click.exceptions.Exit(1)


commands = [services_group]
