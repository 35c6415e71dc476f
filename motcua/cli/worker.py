"""`motcua worker`: run dossier flows for a Prefect server's work pool (scaling out)."""

from __future__ import annotations

import click

from motcua.cli import AppContext
from motcua.errors import ConfigurationError


@click.command("worker")
@click.option("--pool", default="motcua", show_default=True, help="Prefect work pool name.")
@click.option("--limit", type=int, default=None, help="Flow runs at a time (default: no limit).")
@click.option("--name", default=None, help="Worker name shown by the Prefect server.")
@click.option(
    "--deploy/--no-deploy",
    default=True,
    show_default=True,
    help="Register the dossier flows on the pool before starting.",
)
@click.pass_obj
def worker(app: AppContext, pool: str, limit: int | None, name: str | None, deploy: bool) -> None:
    """Take intake and result flow runs from a Prefect server (MOTCUA_PREFECT_API_URL)."""
    if not app.settings.prefect_api_url:
        raise ConfigurationError(
            "a worker needs a Prefect server: MOTCUA_PREFECT_API_URL is not set",
            hint="start one with `prefect server start` and set "
            "MOTCUA_PREFECT_API_URL=http://HOST:4200/api on every machine",
        )
    from motcua.cli.intake import prepare_flows

    prepare_flows(app)
    from flows.deploy import deploy_flows, run_worker

    if deploy:
        deploy_flows(pool)
    app.err.print(f"worker on pool {pool!r} at {app.settings.prefect_api_url} (Ctrl+C to stop)")
    run_worker(pool, limit=limit, name=name)


commands = [worker]
