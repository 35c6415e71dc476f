"""`motcua demo`: run what the pipeline has so far on embedded defaults."""

from __future__ import annotations

import time

import click

from motcua.cli import AppContext
from motcua.errors import CheckFailedError


@click.command("demo")
@click.pass_obj
def demo(app: AppContext) -> None:
    """Start the embedded services and run the pipeline end to end on sample data."""
    from flows.runtime import configure_prefect

    settings = app.settings
    configure_prefect(settings.home, settings.prefect_api_url, verbose=app.verbose > 0)
    from flows.health import check_services
    from motcua.services import s3_config

    started = time.monotonic()
    with app.err.status("starting the object store…"):
        config = s3_config(settings)
    app.err.print(f"object store ready at {config.endpoint}")
    with app.err.status("running the check-services flow through Prefect…"):
        report = check_services(config, settings.bucket_originals)
    click.echo(
        f"object store   {report.object_store}  round trip "
        f"{'ok' if report.round_trip_ok else 'FAILED'} (sha256 {report.sha256[:16]}…)"
    )
    click.echo(
        f"OCR engine     {report.tesseract}  Vietnamese: {'yes' if report.vietnamese_ocr else 'NO'}"
    )
    click.echo(f"finished in {time.monotonic() - started:.1f} s")
    if not (report.round_trip_ok and report.vietnamese_ocr):
        raise CheckFailedError("the demo found a problem (see above)", hint="run `make setup`")


commands = [demo]
