"""`motcua extract`: fields from ID cards, birth-registration declarations, official documents."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click

from motcua.cli import AppContext
from motcua.cli.batch import Batch

_KINDS = ["auto", "cccd", "to-khai-khai-sinh", "to-khai-xac-nhan-hon-nhan", "van-ban"]


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default="auto",
    show_default=True,
    help="Document kind; auto recognises it from the text.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input per line.")
@click.pass_obj
def extract(app: AppContext, files: tuple[Path, ...], kind: str, as_json: bool) -> None:
    """Read the fields of each FILE (photo, scan or PDF) for the clerk's form.

    Every field carries a confidence and a needs_review flag: a value that failed a check or
    came from low-confidence OCR is always flagged. A file that cannot be read is reported and
    the others go on; the exit status is then 2.
    """
    from extractors.fields import extract_fields

    batch = Batch(app, "extract", as_json=as_json)
    for path in files:
        result = batch.run(path, partial(extract_fields, path, kind=kind))
        if result is None:
            continue
        for error in result.page_errors:
            batch.say(f"{path}: {error}")
        if result.page_errors:
            batch.failed += 1  # as `ocr` counts the same file: a page that failed is a failure
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
            continue
        _table(app, result.as_json())
    batch.finish()


def _table(app: AppContext, data: dict[str, object]) -> None:
    from rich.table import Table
    from rich.text import Text

    # file names and read values are user text: Text, never parsed as rich markup
    table = Table(title=Text(f"{data['path']}  —  {data['kind']}"), title_justify="left")
    for column in ("trường", "giá trị", "độ tin cậy", "cần kiểm tra", "nguồn"):
        table.add_column(column)
    fields = data["fields"]
    assert isinstance(fields, dict)
    for key, field in fields.items():
        value = field["value"]
        shown = "; ".join(value) if isinstance(value, list) else str(value)
        table.add_row(
            Text(key),
            Text(shown),
            f"{field['confidence']:.2f}",
            "CÓ" if field["needs_review"] else "",
            Text(str(field["source"])),
        )
    app.out.print(table)
    warnings = data["warnings"]
    assert isinstance(warnings, list)
    for warning in warnings:
        app.out.print(f"  ! {warning}", highlight=False, markup=False)


commands = [extract]
