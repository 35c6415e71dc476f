"""A dossier's result: drafted, signed by the leader and the organisation, verified, archived.

Three flows over the same steps:

- `draft_result(code, fields)`: render the result (`ket-qua.pdf` beside the dossier, with a
  `ket-qua.json` that records the template, the signature box, the time and the PDF's SHA-256).
  The dossier is `processing` and waits in the leader's signing queue.
- `complete_result(code, setup, leader_signed_pdf=None)`: the leader's signature (made here with
  the server-side key of `setup`, or already made on the leader's own device and passed in), the
  organisation's, verification, the archive, and the dossier marked `result_signed`.
- `issue_result(code, setup, fields)`: both in one run, as `motcua dossier issue` uses it.

The leader signs first (certifying the document, DocMDP level 2), the organisation adds its
signature in an incremental update; both at the configured PAdES level (B-LTA by default).
Signing keys are loaded once per flow run; secrets come from the environment
(`MOTCUA_P12_PASSWORD`, `MOTCUA_ORG_P12_PASSWORD` when the organisation's differs,
`MOTCUA_PKCS11_PIN` for a token).

The flows build their `Office` from the process's settings (`flows.context.current_office`);
a process that holds its own (the web server) runs them inside `office_in_use(office)`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from dossiers.calendar import to_local
from dossiers.forms.pdf import SignatureBox
from dossiers.forms.results import RenderedResult, load_template, parse_date, render_result
from dossiers.procedures import Catalogue, Procedure
from dossiers.register import Dossier, Status
from flows.context import Office, current_office
from flows.dossier import event_data
from flows.signing_keys import (
    SigningSetup,
    check_server_key_account,
    check_signer_account,
    leader_signer,
    office_roles,
    organization_fingerprint,
    organization_spec,
    secret_from_env,
)
from motcua.errors import (
    BadArgumentError,
    CheckFailedError,
    DraftChangedError,
)
from motcua.office import cli_actor
from motcua.pdfa import record_outcomes
from signing import (
    Level,
    Role,
    SignatureSpec,
    load_pkcs12,
    sign_pdf,
    verify_pdf,
)
from storage.record import DocumentInfo, RecordInfo
from storage.text import files_text

if TYPE_CHECKING:
    from dossiers.procedures import Catalogue
    from motcua.settings import Settings

log = logging.getLogger(__name__)

_SOURCES_FILE = (
    Path(__file__).resolve().parent.parent / "dossiers" / "forms" / "result_sources.yaml"
)
DRAFT_PDF = "ket-qua.pdf"
DRAFT_FILE = "ket-qua.json"
LEADER_SIGNED_PDF = "ket-qua-lanh-dao-ky.pdf"
SIGNED_PDF = "ket-qua-da-ky.pdf"
# Values every result template may use besides the dossier's fields (dossiers.forms.results).
_STANDARD_VALUES = frozenset(
    {
        "office_name",
        "office_name_upper",
        "signing_body",
        "office_place",
        "dossier_code",
        "issued_on",
    }
)


def _office() -> Office:
    return current_office()


def leader_spec(
    setup: SigningSetup,
    office: Office,
    draft: Draft,
    *,
    signer_name: str | None = None,
    with_signature_image: bool = True,
) -> SignatureSpec:
    """The leader's signature on `draft`: certifying, at the draft's signature box.

    `signer_name` overrides `setup.signer_name` (None: the certificate's name); the leader's
    handwritten image is left out when it is not that signer's (`with_signature_image`)."""
    box = draft.signature_box
    return SignatureSpec(
        role=Role.leader,
        level=Level(setup.level),
        signer_name=signer_name,
        signer_title=setup.signer_title,
        organization=office.printed.name,
        signature_image=Path(setup.signature_image)
        if setup.signature_image and with_signature_image
        else None,
        seal_image=Path(setup.seal_image) if setup.seal_image else None,
        page=box.page + 1,
        box=box.box,
        tsa_url=setup.tsa_url,
        trust=tuple(Path(p) for p in setup.trust),
        extra_certs=tuple(Path(p) for p in setup.chain),
        certify=True,
    )


# --- the draft ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A rendered result waiting for signatures, as `ket-qua.json` records it."""

    dossier_code: str
    template: str
    pdf: Path
    pages: int
    signature_box: SignatureBox
    drafted_at: dt.datetime
    sha256: str
    signer_name: str | None = None
    signed_pdf: Path | None = None  # set once the result is signed and archived
    record_id: str | None = None
    signed_at: dt.datetime | None = None

    @property
    def signed(self) -> bool:
        return self.signed_pdf is not None

    def to_json(self) -> dict[str, Any]:
        box = self.signature_box
        return {
            "dossier_code": self.dossier_code,
            "template": self.template,
            "pdf": self.pdf.name,
            "pages": self.pages,
            "signature_box": {
                "page": box.page,
                "x1": box.x1,
                "y1": box.y1,
                "x2": box.x2,
                "y2": box.y2,
            },
            "drafted_at": self.drafted_at.isoformat(),
            "sha256": self.sha256,
            "signer_name": self.signer_name,
            "signed_pdf": self.signed_pdf.name if self.signed_pdf else None,
            "record_id": self.record_id,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
        }

    @classmethod
    def from_json(cls, folder: Path, data: Mapping[str, Any]) -> Draft:
        box = data["signature_box"]
        signed_at = data.get("signed_at")
        return cls(
            dossier_code=str(data["dossier_code"]),
            template=str(data["template"]),
            pdf=folder / Path(str(data["pdf"])).name,
            pages=int(data["pages"]),
            signature_box=SignatureBox(
                int(box["page"]),
                float(box["x1"]),
                float(box["y1"]),
                float(box["x2"]),
                float(box["y2"]),
            ),
            drafted_at=dt.datetime.fromisoformat(data["drafted_at"]),
            sha256=str(data["sha256"]),
            signer_name=data.get("signer_name"),
            signed_pdf=folder / Path(str(data["signed_pdf"])).name
            if data.get("signed_pdf")
            else None,
            record_id=data.get("record_id"),
            signed_at=dt.datetime.fromisoformat(signed_at) if signed_at else None,
        )


def dossier_folder(settings: Settings, code: str) -> Path:
    """Where a dossier's forms and results live (`Office.dossier_dir`, without creating it)."""
    return settings.home / "dossiers" / code


def read_draft(folder: Path) -> Draft | None:
    """The draft recorded in `folder`, or None when there is none (or it is unreadable)."""
    path = folder / DRAFT_FILE
    try:
        return Draft.from_json(folder, json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable result draft %s: %s", path, exc)
        return None


def write_draft(folder: Path, draft: Draft) -> None:
    path = folder / DRAFT_FILE
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(draft.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def waits_for_leader(dossier: Dossier, draft: Draft | None) -> bool:
    """A dossier in the leader's queue: processing, with a draft made after any supplement."""
    if draft is None or draft.signed or dossier.status is not Status.processing:
        return False
    asked = [h.at for h in dossier.history if h.status is Status.supplement_requested]
    return not asked or max(asked) <= draft.drafted_at


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class ResultField:
    key: str
    label: str
    required: bool
    value: Any


@dataclass(frozen=True)
class ResultInputs:
    """What a dossier's result would be rendered from, and what is still missing."""

    template: str
    fields: tuple[ResultField, ...]  # the template's rows, in order
    values: dict[str, Any]
    missing: tuple[str, ...]  # "key (label)", as render_result names them


def result_fields(template_key: str, dossier: Dossier) -> dict[str, Any]:
    """The template's fields, read from the dossier's extracted fields by the sources table."""
    sources: dict[str, dict[str, str | list[str]]] = yaml.safe_load(
        _SOURCES_FILE.read_text(encoding="utf-8")
    )
    values: dict[str, Any] = {}
    for target, named in (sources.get(template_key) or {}).items():
        # one source, or several best first: the declaration, then the ID card
        for source in [named] if isinstance(named, str) else named:
            value = _source_value(dossier, source)
            if value not in (None, ""):
                values[target] = value
                break
    return values


def _source_value(dossier: Dossier, source: str) -> Any:
    kind, _, key = source.partition(".")
    for doc in dossier.documents:
        if doc.kind != kind:
            continue
        item = doc.fields.get(key)
        value = item.get("value") if isinstance(item, dict) else item
        if value not in (None, ""):
            return value
    return None


def drafting_template(procedure: Procedure) -> str:
    """The result template motcua drafts the procedure's result from; `CheckFailedError` when
    it has none (its result is uploaded as a signed or scanned file instead)."""
    if procedure.result.template is None:
        raise CheckFailedError(
            f"thủ tục {procedure.key} không có mẫu kết quả để soạn",
            hint="tải lên kết quả đã ký hoặc bản quét kết quả",
        )
    return procedure.result.template


def result_inputs(
    catalogue: Catalogue, dossier: Dossier, overrides: Mapping[str, str] | None = None
) -> ResultInputs:
    """The result's template, its fields with the values they would get, and what is missing,
    so a clerk can complete them before the draft is rendered."""
    template_key = drafting_template(catalogue.get(dossier.procedure_key))
    template = load_template(template_key)
    values = {**result_fields(template_key, dossier), **dict(overrides or {})}
    values = {k: v for k, v in values.items() if v not in (None, "")}
    # One input per field: the office, the dossier code and the date are the system's to fill
    # (render_result does), and a field shown twice (a date in figures and in words) is one.
    seen: set[str] = set(_STANDARD_VALUES)
    rows_: list[ResultField] = []
    for section in template.sections:
        for row in section.rows:
            if row.field not in seen:
                seen.add(row.field)
                rows_.append(ResultField(row.field, row.label, row.required,
                                         values.get(row.field)))  # fmt: skip
    rows = tuple(rows_)
    missing = [f"{r.key} ({r.label})" for r in rows if r.required and r.key not in values]
    missing += [
        f"{row.field} ({row.label}): không phải ngày, ghi DD/MM/YYYY"
        for section in template.sections
        for row in section.rows
        if row.format in ("date", "date_words")
        and row.field in values
        and parse_date(values[row.field]) is None
    ]
    lines = [*template.intro, *template.closing, *template.signer.role_lines]
    for line in lines:
        for _, name, _, _ in string.Formatter().parse(line):
            if name and name not in values and name not in _STANDARD_VALUES:
                missing.append(f"{name} (placeholder)")
    return ResultInputs(template_key, rows, values, tuple(dict.fromkeys(missing)))


# --- tasks ----------------------------------------------------------------------------------


@task(cache_policy=NO_CACHE)
def render_task(
    office: Office,
    dossier: Dossier,
    template: str,
    signer_name: str | None,
    overrides: dict[str, str],
    number: str | None = None,
) -> RenderedResult:
    folder = office.dossier_dir(dossier.code)
    return render_result(
        template,
        folder / DRAFT_PDF,
        fields={**result_fields(template, dossier), **overrides},
        office=office.printed,
        dossier_code=dossier.code,
        issued_on=to_local(dt.datetime.now(dt.UTC)).date(),
        signer_name=signer_name,
        result_number=number,
    )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def leader_sign_task(office: Office, draft: Draft, setup: SigningSetup) -> Path:
    """The leader's certifying signature with the server-side key (PKCS#12 or token)."""
    out = draft.pdf.with_name(LEADER_SIGNED_PDF)
    with leader_signer(setup) as leader:
        sign_pdf(
            draft.pdf, out, leader_spec(setup, office, draft, signer_name=setup.signer_name), leader
        )
    return out


@task(cache_policy=NO_CACHE)
def check_leader_signed_task(
    draft: Draft, leader_signed: Path, setup: SigningSetup, actor: str = ""
) -> Path:
    """A result the leader signed elsewhere: the draft itself, with a valid leader signature."""
    data = leader_signed.read_bytes()
    if not data.startswith(draft.pdf.read_bytes()):
        raise CheckFailedError(
            f"{leader_signed.name} is not the draft of {draft.dossier_code} signed: "
            "its first revision differs from the draft",
            hint="sign the current draft (prepare again)",
        )
    report = verify_pdf(data, trust=[Path(p) for p in setup.trust], roles=office_roles())
    organization = organization_fingerprint(setup)
    for sig in report.signatures:
        if sig.certificate_sha256 == organization:
            raise CheckFailedError(
                f"hồ sơ {draft.dossier_code}: chữ ký lãnh đạo được ký bằng chứng thư số của cơ"
                " quan (the leader signed with the organisation's certificate)",
                hint="lãnh đạo ký bằng chứng thư số của mình",
            )
    leaders = [s for s in report.signatures if s.role == Role.leader.value]
    for sig in leaders:
        check_signer_account(sig.signer, sig.account, actor)
    if not leaders or not all(s.ok for s in leaders):
        problems = "; ".join(e for s in leaders for e in s.errors) or "no leader signature"
        raise CheckFailedError(f"the leader's signature on {draft.dossier_code}: {problems}")
    return leader_signed


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def organization_sign_task(office: Office, leader_signed: Path, setup: SigningSetup) -> Path:
    """The organisation's signature over the leader's, then both verified."""
    organization = load_pkcs12(
        Path(setup.organization_p12),
        secret_from_env("MOTCUA_ORG_P12_PASSWORD", "MOTCUA_P12_PASSWORD"),
        [Path(p) for p in setup.chain],
    )
    out = leader_signed.with_name(SIGNED_PDF)
    sign_pdf(leader_signed, out, organization_spec(setup, office), organization)
    report = verify_pdf(out, trust=[Path(p) for p in setup.trust], roles=office_roles())
    if not (report.ok and report.complete):
        problems = "; ".join(e for s in report.signatures for e in s.errors) or "not complete"
        raise CheckFailedError(f"the signed result of {out} does not verify: {problems}")
    return out


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 10])
def archive_result_task(office: Office, dossier: Dossier, signed: Path, pages: int) -> str:
    info = RecordInfo(
        dossier_code=dossier.code,
        title=f"Kết quả giải quyết hồ sơ {dossier.code}",
        procedure=dossier.procedure_key,
        keywords=("kết quả", dossier.procedure_key),
        start_date=dossier.received_at.date().isoformat(),
        documents=(
            DocumentInfo(
                file=signed.name,
                issuing_body=office.printed.name,
                doc_type="Kết quả giải quyết thủ tục hành chính",
                issue_date=to_local(dt.datetime.now(dt.UTC)).date().isoformat(),
                subject=f"Kết quả hồ sơ {dossier.code}",
                page_count=pages,
            ),
        ),
        extracted={"citizen_name": dossier.citizen_name or ""},
        # the result's own words (the child's name on a trích lục), not only who asked for it
        text="\n".join(
            filter(
                None,
                [dossier.citizen_name, dossier.code, dossier.procedure_key, files_text([signed])],
            )
        ),
        extra=record_outcomes([signed]),  # its PDF/A-2b check (an uploaded scan's too)
    )
    return office.archive.put([signed], info).record_id


# --- the steps the flows compose -------------------------------------------------------------


def _unsigned_dossier(office: Office, dossier_code: str) -> Dossier:
    dossier = office.register.get(dossier_code)
    if dossier.status is Status.supplement_requested:
        raise BadArgumentError(
            f"hồ sơ {dossier_code} còn chờ bổ sung thành phần",
            hint="tiếp nhận hồ sơ bổ sung trước",
        )
    if dossier.status in (Status.result_signed, Status.returned):
        raise BadArgumentError(f"hồ sơ {dossier_code} đã có kết quả")
    return dossier


def result_number(office: Office, dossier: Dossier) -> str | None:
    """The number the dossier's result is issued under: allocated once from the procedure's
    numbering book for this year (`Số: 12/TLKS`), kept in the register; None without a book."""
    if dossier.result_number:
        return dossier.result_number
    from dossiers.forms.results import number_symbol
    from dossiers.numbering import allocate_result_number, create_numbering_tables

    symbol = number_symbol(office.catalogue.get(dossier.procedure_key))
    if symbol is None:
        return None
    create_numbering_tables(office.engine)
    year = to_local(dt.datetime.now(dt.UTC)).year
    number = allocate_result_number(office.engine, symbol, year, dossier_code=dossier.code)
    return office.register.set_result_number(dossier.code, number.text).result_number


def _draft(
    office: Office,
    dossier_code: str,
    fields: Mapping[str, str] | None,
    signer_name: str | None,
    actor: str,
) -> Draft:
    dossier = _unsigned_dossier(office, dossier_code)
    template = drafting_template(office.catalogue.get(dossier.procedure_key))
    if dossier.status is Status.received:
        dossier = office.register.start_processing(dossier_code)
    number = result_number(office, dossier)
    rendered = render_task(office, dossier, template, signer_name, dict(fields or {}), number)
    draft = Draft(
        dossier_code=dossier.code,
        template=template,
        pdf=rendered.path,
        pages=rendered.pages,
        signature_box=rendered.signature_box,
        drafted_at=dt.datetime.now(dt.UTC),
        sha256=sha256_of(rendered.path),
        signer_name=signer_name,
    )
    write_draft(rendered.path.parent, draft)
    office.journal_event(actor=actor, action="result.drafted", target_id=dossier.code,
                         details={"template": template, "pages": rendered.pages,
                                  "result_number": number})  # fmt: skip
    return draft


def check_previewed(code: str, draft: Draft, previewed_sha256: str | None) -> None:
    """Refuse to sign when the draft is not the one the signer previewed (`previewed_sha256`)."""
    if previewed_sha256 is not None and previewed_sha256.strip().lower() != draft.sha256:
        raise DraftChangedError(
            f"dự thảo kết quả của hồ sơ {code} đã thay đổi sau khi lãnh đạo xem"
            " (the draft changed since it was previewed: its SHA-256 differs)",
            hint="xem lại dự thảo mới rồi ký lại (preview the current draft, then sign it)",
        )


def _current_draft(office: Office, dossier: Dossier, previewed_sha256: str | None) -> Draft:
    draft = read_draft(office.dossier_dir(dossier.code))
    if draft is None or not waits_for_leader(dossier, draft):
        raise CheckFailedError(
            f"dossier {dossier.code} has no draft result waiting for signatures",
            hint="draft the result first (POST /api/v1/dossiers/{code}/result)",
        )
    check_previewed(dossier.code, draft, previewed_sha256)
    if not draft.pdf.is_file() or sha256_of(draft.pdf) != draft.sha256:
        raise CheckFailedError(
            f"the draft result of {dossier.code} changed or disappeared since it was rendered",
            hint="draft the result again",
        )
    return draft


def _complete(
    office: Office,
    dossier_code: str,
    setup: SigningSetup,
    leader_signed_pdf: str | None,
    started: float,
    previewed_sha256: str | None,
    actor: str,
) -> dict[str, Any]:
    dossier = _unsigned_dossier(office, dossier_code)
    draft = _current_draft(office, dossier, previewed_sha256)
    if leader_signed_pdf is None:
        check_server_key_account(setup, actor)
        leader_signed = leader_sign_task(office, draft, setup)
    else:
        leader_signed = check_leader_signed_task(draft, Path(leader_signed_pdf), setup, actor)
    signed = organization_sign_task(office, leader_signed, setup)
    record_id = archive_result_task(office, dossier, signed, draft.pages)
    dossier = office.register.mark_result_signed(dossier_code)
    signed_at = dt.datetime.now(dt.UTC)
    write_draft(
        draft.pdf.parent,
        dataclasses.replace(draft, signed_pdf=signed, record_id=record_id, signed_at=signed_at),
    )
    result = {
        "dossier_code": dossier.code,
        "status": dossier.status.value,
        "result_pdf": str(signed),
        "record_id": record_id,
        "level": setup.level,
        "timeliness": dossier.timeliness.value if dossier.timeliness else None,
        "result_number": dossier.result_number,
    }
    method = "device" if leader_signed_pdf else "server"
    office.journal_event(
        actor=actor,
        action="result.signed",
        target_id=dossier.code,
        details={"record_id": record_id, "level": setup.level, "leader_signed": method},
        event="result.signed",
        data=event_data(dossier, record_id=record_id, level=setup.level,
                        timeliness=result["timeliness"], result_number=dossier.result_number,
                        result_pdf=f"/api/v1/dossiers/{dossier.code}/result.pdf"),
    )  # fmt: skip
    create_markdown_artifact(
        "\n".join(
            [
                f"# Kết quả hồ sơ {dossier.code}",
                "",
                f"- Mẫu kết quả: `{draft.template}`, ký số {setup.level} (lãnh đạo, rồi cơ quan)",
                f"- Lãnh đạo ký: {'trên thiết bị riêng' if leader_signed_pdf else 'tại máy chủ'}",
                f"- Lưu trữ: `{record_id}`",
                f"- Đúng hạn: {dossier.timeliness.label_vi if dossier.timeliness else '-'}",
                f"- Thời gian: {time.monotonic() - started:.1f} s",
            ]
        ),
        key="result-" + "".join(c if c.isalnum() else "-" for c in dossier.code.lower()),
        description="Ký và lưu trữ kết quả",
    )
    return result


# --- the flows ------------------------------------------------------------------------------


@flow(name="draft-result", log_prints=False)
def draft_result(
    dossier_code: str,
    fields: dict[str, str] | None = None,
    signer_name: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Render the result for the leader to sign; the dossier is `processing` with a draft.

    `fields` are values the clerk supplies or corrects, over those extracted from the
    dossier's documents; `signer_name` is printed under the signature box.
    """
    office = _office()
    draft = _draft(office, dossier_code, fields, signer_name, actor or cli_actor())
    return {
        "dossier_code": draft.dossier_code,
        "status": Status.processing.value,
        "draft_pdf": str(draft.pdf),
        "template": draft.template,
        "pages": draft.pages,
        "drafted_at": draft.drafted_at.isoformat(),
        "draft_sha256": draft.sha256,
    }


@flow(name="complete-result", log_prints=False)
def complete_result(
    dossier_code: str,
    setup: SigningSetup,
    leader_signed_pdf: str | None = None,
    draft_sha256: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Sign the drafted result (leader, unless `leader_signed_pdf` carries the leader's
    signature already; then the organisation), verify, archive; the dossier is ready to return.

    `draft_sha256`: the draft the signer previewed; another one is refused (`DraftChangedError`).
    """
    return _complete(_office(), dossier_code, setup, leader_signed_pdf, time.monotonic(),
                     draft_sha256, actor or cli_actor())  # fmt: skip


@flow(name="issue-result", log_prints=False)
def issue_result(
    dossier_code: str,
    setup: SigningSetup,
    fields: dict[str, str] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Render, sign (leader then organisation), verify, archive; the dossier is ready to return.

    `fields` are values the clerk supplies or corrects (e.g. `marital_status`), over those
    extracted from the dossier's documents.
    """
    started = time.monotonic()
    office = _office()
    who = actor or cli_actor()
    draft = _draft(office, dossier_code, fields, setup.signer_name, who)
    return _complete(office, dossier_code, setup, None, started, draft.sha256, who)
