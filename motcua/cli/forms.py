"""`motcua forms register`: the tracking register (Mẫu 06, Circular 01/2018) as a PDF.

Reads the dossiers through `open_register` (the register with the office's calendar) and prints
those received in the date range; the office's printed details come from the settings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from motcua.cli import AppContext
from motcua.errors import BadArgumentError


def parse_day(value: str, option: str) -> dt.date:
    """A day given as YYYY-MM-DD or DD/MM/YYYY; a Vietnamese `BadArgumentError` otherwise."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise BadArgumentError(
        f"{option} {value!r}: không phải một ngày hợp lệ",
        hint="use YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-04-24",
    )


@click.group("forms")
def forms_group() -> None:
    """Print the forms of Circular 01/2018/TT-VPCP that cover many dossiers."""


@forms_group.command("register")
@click.option("--from", "date_from", required=True, help="First day received (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last day received (YYYY-MM-DD).")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The PDF to write.",
)
@click.pass_obj
def register_form(app: AppContext, date_from: str, date_to: str, output: Path) -> None:
    """Mẫu 06, the tracking register (sổ theo dõi hồ sơ) of the dossiers received in a range."""
    from dossiers.calendar import VN_TZ
    from dossiers.forms.pdf import Office
    from dossiers.forms.registers import render_tracking_register
    from dossiers.procedures import load_catalogue
    from motcua.cli.dossier import open_register

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if end < start:
        raise BadArgumentError(
            f"--from {start.isoformat()} sau --to {end.isoformat()}: khoảng ngày không hợp lệ",
            hint="give the first day with --from and the last with --to",
        )
    if output.suffix.lower() != ".pdf":
        raise BadArgumentError(f"{output}: tệp kết quả phải có đuôi .pdf", hint="-o FILE.pdf")
    settings = app.settings
    register = open_register(app)
    dossiers = register.list(received_from=start, received_to=end)
    catalogue = load_catalogue(home=settings.home)
    office = Office(
        name=settings.office_name,
        parent=settings.office_parent,
        place=settings.office_place,
        unit_code=settings.unit_code,
    )
    rendered = render_tracking_register(
        output,
        office=office,
        dossiers=dossiers,
        procedure_names={p.key: p.name for p in catalogue},
        date_from=start,
        date_to=end,
        printed_on=dt.datetime.now(VN_TZ).date(),
    )
    click.echo(f"{output}: {len(dossiers)} dossier(s), {rendered.pages} page(s)")


commands = [forms_group]
