"""`motcua pdfa check FILE...`: the PDF/A-2b validator (ISO 19005-2:2011), clause by clause.

Exit 0 every file passes, 1 a file fails a clause (an encrypted file too: it breaks 6.1.3), 2 a
file cannot be used (missing, not a PDF, damaged); the other files are checked all the same.
Archivists read the report: Vietnamese, with the English gloss.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click

from motcua.cli import AppContext
from motcua.cli.batch import Batch


@click.group("pdfa")
def pdfa_group() -> None:
    """PDF/A-2b: check archived and issued PDFs against ISO 19005-2."""


@pdfa_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option("--clauses", "list_clauses", is_flag=True, help="Also list the clauses checked.")
@click.pass_obj
def check(app: AppContext, files: tuple[Path, ...], as_json: bool, list_clauses: bool) -> None:
    """Check each FILE against the ISO 19005-2 clauses motcua tests (`--clauses` lists them).

    Each failure names its clause. Exit 0 all pass, 1 a file fails, 2 a file is unusable."""
    from motcua.pdfa import CLAUSES, check_pdfa

    batch = Batch(app, "pdfa check", as_json=as_json)
    if list_clauses and not as_json:
        click.echo("Các điều của ISO 19005-2:2011 được kiểm tra (clauses checked):")
        for clause, what in CLAUSES.items():
            click.echo(f"  {clause:<11} {what}")
    for path in files:
        report = batch.run(path, partial(check_pdfa, path))
        if report is None:
            continue
        if not report.ok:
            batch.checks_failed += 1
        if as_json:
            click.echo(json.dumps(report.as_json(), ensure_ascii=False))
            continue
        mark = "ĐẠT PDF/A-2b" if report.ok else "KHÔNG ĐẠT PDF/A-2b"
        claimed = f" (tệp tự khai PDF/A-{report.claimed})" if report.claimed else ""
        click.echo(f"{report.path}: {mark}{claimed}")
        for failure in report.failures:
            click.echo(f"  ! {failure}")
    batch.finish()


commands = [pdfa_group]
