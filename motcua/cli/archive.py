"""`motcua archive ...`: the write-once archive (put, search, get, verify, hold, export, url).

Archivists read this output, so it is Vietnamese; `--json` gives machine-readable English keys.
The fixity audit re-validates signed PDFs through a hook: `storage` never imports `signing`; this
module composes the audit with `signing.verify_pdf`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from motcua.cli import AppContext
from motcua.errors import BadArgumentError, CheckFailedError
from motcua.services import pdf_checker as _pdf_checker
from storage.fixity import COPY_LABELS

if TYPE_CHECKING:
    from storage.archive import Archive

_DATE = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])
# --meta keys that fill a metadata field; any other key is kept under "extra".
_LIST_KEYS = {"keywords", "keyword", "id_number", "id_numbers", "so_dinh_danh"}
_FIELD_KEYS = {"procedure", "start_date", "end_date", "access_regime", "language"}


def _archive(app: AppContext) -> Archive:
    from motcua.services import archive

    return archive(app.settings)


def _parse_meta(pairs: tuple[str, ...]) -> tuple[dict[str, str], dict[str, list[str]]]:
    fields: dict[str, str] = {}
    lists: dict[str, list[str]] = {"keywords": [], "id_numbers": []}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadArgumentError(
                f"--meta {pair!r}: expected key=value", hint="e.g. --meta procedure=1.001"
            )
        if key in _LIST_KEYS:
            target = "keywords" if key.startswith("keyword") else "id_numbers"
            lists[target] += [v.strip() for v in value.split(",") if v.strip()]
        else:
            fields[key] = value.strip()
    return fields, lists


@click.group("archive")
def archive_group() -> None:
    """The write-once archive: put, search, get, verify, hold, export, url, reindex."""


@archive_group.command("put")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dossier", "dossier_code", required=True, help="Dossier code (mã hồ sơ).")
@click.option("--title", default="", help="Record title (tiêu đề hồ sơ).")
@click.option(
    "--meta",
    "meta",
    multiple=True,
    metavar="KEY=VALUE",
    help="Metadata: procedure, id_number, keywords (comma-separated), start_date, end_date, "
    "access_regime, language; other keys are kept as extra fields.",
)
@click.option("--retention-class", default=None, help="Retention class name (default 10y).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def put(
    app: AppContext,
    files: tuple[Path, ...],
    dossier_code: str,
    title: str,
    meta: tuple[str, ...],
    retention_class: str | None,
    as_json: bool,
) -> None:
    """Archive FILES as one record and print its record id."""
    from storage.record import RecordInfo
    from storage.text import describe_file

    fields, lists = _parse_meta(meta)
    documents, texts = [], []
    for path in files:
        if path.is_file():
            document, text = describe_file(path, path.name)
            documents.append(document)
            texts.append(text)
    info = RecordInfo(
        dossier_code=dossier_code,
        title=title,
        retention_class=retention_class,
        keywords=tuple(lists["keywords"]),
        id_numbers=tuple(lists["id_numbers"]),
        documents=tuple(documents),
        text="\n".join(t for t in texts if t),
        procedure=fields.get("procedure", ""),
        start_date=fields.get("start_date", ""),
        end_date=fields.get("end_date", ""),
        access_regime=fields.get("access_regime", "Hạn chế"),
        language=fields.get("language", "Tiếng Việt"),
        extra={k: v for k, v in fields.items() if k not in _FIELD_KEYS},
    )
    result = _archive(app).put(list(files), info)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "record_id": result.record_id,
                    "created": result.created,
                    "files": [f.__dict__ for f in result.files],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(result.record_id)


@archive_group.command("search")
@click.argument("query", default="")
@click.option("--dossier", "dossier_code", default=None, help="Only this dossier code.")
@click.option("--id-number", default=None, help="Only records about this ID number.")
@click.option("--procedure", default=None, help="Only this procedure.")
@click.option("--retention-class", default=None, help="Only this retention class.")
@click.option("--from", "date_from", type=_DATE, default=None, help="Records ending on/after.")
@click.option("--to", "date_to", type=_DATE, default=None, help="Records starting on/before.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def search(
    app: AppContext,
    query: str,
    dossier_code: str | None,
    id_number: str | None,
    procedure: str | None,
    retention_class: str | None,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Find records by words (with or without diacritics) and filters; exact matches first."""
    from storage.catalogue import Catalogue, SearchQuery

    settings = app.settings
    settings.home.mkdir(parents=True, exist_ok=True)
    hits = Catalogue(settings.effective_catalog_url).search(
        SearchQuery(
            text=query,
            dossier_code=dossier_code,
            id_number=id_number,
            procedure=procedure,
            retention_class=retention_class,
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
            limit=limit,
        )
    )
    if as_json:
        click.echo(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("Không tìm thấy hồ sơ nào.")
        return
    for hit in hits:
        mark = "" if hit.exact else " (khớp không dấu)"
        click.echo(f"{hit.rank}. {hit.record_id}  {hit.dossier_code}  {hit.title}{mark}")
        if hit.snippet:
            click.echo(f"   {hit.snippet}")


@archive_group.command("get")
@click.argument("record_id")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    help="Folder to write the record's bag into.",
)
@click.pass_obj
def get(app: AppContext, record_id: str, out_dir: Path) -> None:
    """Download a record and verify every file against its manifest."""
    target = _archive(app).get(record_id, out_dir)
    click.echo(f"Đã tải và kiểm tra hồ sơ {record_id}: {target}")


@archive_group.command("verify")
@click.argument("record_ids", nargs=-1)
@click.option("--all", "all_records", is_flag=True, help="Audit every record in the archive.")
@click.option(
    "--trust",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help="Trust anchors (PEM/DER) for the signatures in archived PDFs.",
)
@click.option("--offline", is_flag=True, help="No OCSP/CRL requests when re-validating PDFs.")
@click.option(
    "--accept-unknown-revocation",
    is_flag=True,
    help="Count a signature whose revocation could not be checked as valid (reported still).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def verify(
    app: AppContext,
    record_ids: tuple[str, ...],
    all_records: bool,
    trust: tuple[Path, ...],
    offline: bool,
    accept_unknown_revocation: bool,
    as_json: bool,
) -> None:
    """Fixity audit: re-hash every object, find hidden versions, re-check signed PDFs, and check
    the buckets' versioning, object lock, policy and lifecycle rules. With --all, also the
    catalogue against the store: a record on one side only is a finding.

    Exit 1 when anything is found; each finding names the record (or bucket) and the object.
    """
    from storage.audit import audit_archive
    from storage.record import check_record_id

    if not record_ids and not all_records:
        raise BadArgumentError("nothing to verify", hint="name record ids or pass --all")
    archive = _archive(app)
    checker = _pdf_checker(trust, offline, accept_unknown_revocation)
    if all_records:
        whole = audit_archive(archive, checker)
        audits, general = list(whole.audits), list(whole.general)
    else:
        ids = [check_record_id(r) for r in record_ids]
        audits = [archive.verify(record_id, checker) for record_id in ids]
        general = archive.bucket_findings()
    findings = general + [f for a in audits for f in a.findings]
    if as_json:
        report: dict[str, Any] = {
            "ok": not findings,
            "records": [a.as_dict() for a in audits],
            "archive_findings": [dataclasses.asdict(f) for f in general],
            "pdf_signatures_checked": checker is not None,
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for finding in general:
            click.echo(f"✗ {finding}")
        for audit in audits:
            state = "toàn vẹn" if audit.ok else f"{len(audit.findings)} vấn đề"
            click.echo(f"{audit.record_id}: {audit.objects_checked} tệp đã kiểm tra, {state}")
            for finding in audit.findings:
                where = "" if finding.copy == "primary" else f"[{COPY_LABELS[finding.copy]}] "
                click.echo(f"  ✗ {where}{finding.object}: {finding.problem}")
        if checker is None:
            click.echo(
                "(chữ ký số trong PDF chưa được kiểm tra: mô-đun signing chưa có verify_pdf)"
            )
    if findings:
        raise click.exceptions.Exit(1)


@archive_group.command("hold")
@click.argument("record_id")
@click.option("--release", is_flag=True, help="Release the legal hold instead.")
@click.pass_obj
def hold(app: AppContext, record_id: str, release: bool) -> None:
    """Set (or release) a legal hold on every object of a record."""
    from storage.record import check_record_id

    count = _archive(app).hold(check_record_id(record_id), on=not release)
    action = "Đã gỡ phong tỏa" if release else "Đã phong tỏa"
    click.echo(f"{action} hồ sơ {record_id} ({count} tệp)")


@archive_group.command("export")
@click.argument("record_id")
@click.option("-o", "--output", "zip_path", required=True, type=click.Path(path_type=Path))
@click.option(
    "--trust",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help="Trust anchors (PEM/DER) for the signatures in archived PDFs.",
)
@click.option("--offline", is_flag=True, help="No OCSP/CRL requests when re-validating PDFs.")
@click.option(
    "--accept-unknown-revocation",
    is_flag=True,
    help="A signature whose revocation could not be checked is not a finding.",
)
@click.pass_obj
def export(
    app: AppContext,
    record_id: str,
    zip_path: Path,
    trust: tuple[Path, ...],
    offline: bool,
    accept_unknown_revocation: bool,
) -> None:
    """Write a dissemination package: files, metadata and a verification report (zip)."""
    from storage.record import check_record_id

    checker = _pdf_checker(trust, offline, accept_unknown_revocation)
    audit = _archive(app).export(check_record_id(record_id), zip_path, checker)
    if not audit.ok:
        raise CheckFailedError(
            f"hồ sơ {record_id} không toàn vẹn (record failed verification): "
            + "; ".join(f"{f.object}: {f.problem}" for f in audit.findings),
            hint=f"{zip_path} holds only the verification report; tell the archivist",
        )
    click.echo(f"Đã xuất hồ sơ {record_id}: {zip_path}")


@archive_group.command("url")
@click.argument("record_id")
@click.argument("file")
@click.option("--minutes", default=15, show_default=True, type=click.IntRange(1, 24 * 60))
@click.pass_obj
def url(app: AppContext, record_id: str, file: str, minutes: int) -> None:
    """Print a presigned download URL for one file of a record (short expiry)."""
    from storage.record import check_record_id

    link = _archive(app).presigned_url(
        check_record_id(record_id), file, expires=dt.timedelta(minutes=minutes)
    )
    click.echo(link)


@archive_group.command("reindex")
@click.pass_obj
def reindex(app: AppContext) -> None:
    """Rebuild the catalogue from the object store alone."""
    count = _archive(app).reindex()
    click.echo(f"Đã lập lại chỉ mục: {count} hồ sơ")


@archive_group.command("sweep")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def sweep(app: AppContext, as_json: bool) -> None:
    """Report interrupted puts (objects without a manifest). Exit 1 when any are found."""
    leftovers = _archive(app).sweep()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "record_id": item.record_id,
                        "objects": list(item.objects),
                        "newest": item.newest.isoformat() if item.newest else None,
                    }
                    for item in leftovers
                ],
                indent=2,
            )
        )
    else:
        for item in leftovers:
            click.echo(f"{item.record_id}: {len(item.objects)} tệp chưa có manifest (dở dang)")
        if not leftovers:
            click.echo("Không có bản ghi dở dang.")
    if leftovers:
        raise click.exceptions.Exit(1)


commands = [archive_group]
