"""`issue_result`: render a dossier's result, have it signed by the leader and the organisation,
verify both signatures, archive it with the dossier, and mark the dossier ready to return.

The leader signs first (certifying the document, DocMDP level 2), the organisation adds its
signature in an incremental update; both at the configured PAdES level (B-LTA by default).
Signing keys are loaded once per process run of the flow; passwords come from the environment
(`MOTCUA_P12_PASSWORD`, and `MOTCUA_ORG_P12_PASSWORD` when the organisation's differs).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from dossiers.calendar import to_local
from dossiers.forms.results import RenderedResult, render_result
from dossiers.register import Dossier, Status
from flows.context import Office, current_office
from motcua.errors import BadArgumentError, CheckFailedError, ConfigurationError
from signing import Level, Role, SignatureSpec, load_pkcs12, sign_pdf, verify_pdf
from storage.record import DocumentInfo, RecordInfo

log = logging.getLogger(__name__)

_SOURCES_FILE = (
    Path(__file__).resolve().parent.parent / "dossiers" / "forms" / "result_sources.yaml"
)


@dataclass(frozen=True)
class SigningSetup:
    """Plain, serialisable signing parameters (a flow parameter a remote worker can receive)."""

    leader_p12: str
    organization_p12: str
    chain: list[str] = field(default_factory=list)
    trust: list[str] = field(default_factory=list)
    tsa_url: str | None = None
    level: str = "B-LTA"
    signer_name: str | None = None
    signer_title: str | None = "Chủ tịch"
    signature_image: str | None = None
    seal_image: str | None = None

    @classmethod
    def from_test_pki(cls, directory: Path, **overrides: Any) -> SigningSetup:
        from signing import testpki

        pki = testpki.load(directory)
        os.environ.setdefault("MOTCUA_P12_PASSWORD", pki.p12_password)
        values: dict[str, Any] = {
            "leader_p12": str(pki.p12("leader")),
            "organization_p12": str(pki.p12("organization")),
            "chain": [str(pki.chain)],
            "trust": [str(pki.root_cert)],
            "tsa_url": pki.tsa_url,
            "signature_image": str(pki.signature_image),
            "seal_image": str(pki.seal_image),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _password(name: str, fallback: str | None = None) -> str:
    value = os.environ.get(name) or (os.environ.get(fallback) if fallback else None)
    if value is None:
        raise ConfigurationError(
            f"{name} is not set", hint=f"export {name}=... (the PKCS#12 password; never a flag)"
        )
    return value


def result_fields(template_key: str, dossier: Dossier) -> dict[str, Any]:
    """The template's fields, read from the dossier's extracted fields by the sources table."""
    sources: dict[str, dict[str, str]] = yaml.safe_load(_SOURCES_FILE.read_text(encoding="utf-8"))
    values: dict[str, Any] = {}
    for target, source in (sources.get(template_key) or {}).items():
        kind, _, key = source.partition(".")
        for doc in dossier.documents:
            if doc.kind != kind:
                continue
            item = doc.fields.get(key)
            value = item.get("value") if isinstance(item, dict) else item
            if value not in (None, ""):
                values[target] = value
                break
    return values


@task(cache_policy=NO_CACHE)
def render_task(
    office: Office,
    dossier: Dossier,
    template: str,
    signer_name: str | None,
    overrides: dict[str, str],
) -> RenderedResult:
    folder = office.dossier_dir(dossier.code)
    return render_result(
        template,
        folder / "ket-qua.pdf",
        fields={**result_fields(template, dossier), **overrides},
        office=office.printed,
        dossier_code=dossier.code,
        issued_on=to_local(dt.datetime.now(dt.UTC)).date(),
        signer_name=signer_name,
    )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def sign_task(office: Office, rendered: RenderedResult, setup: SigningSetup) -> Path:
    level = Level(setup.level)
    chain = tuple(Path(p) for p in setup.chain)
    trust = tuple(Path(p) for p in setup.trust)
    leader = load_pkcs12(Path(setup.leader_p12), _password("MOTCUA_P12_PASSWORD"), chain)
    organization = load_pkcs12(
        Path(setup.organization_p12),
        _password("MOTCUA_ORG_P12_PASSWORD", "MOTCUA_P12_PASSWORD"),
        chain,
    )
    box = rendered.signature_box
    leader_spec = SignatureSpec(
        role=Role.leader,
        level=level,
        signer_name=setup.signer_name,
        signer_title=setup.signer_title,
        organization=office.printed.name,
        signature_image=Path(setup.signature_image) if setup.signature_image else None,
        seal_image=Path(setup.seal_image) if setup.seal_image else None,
        page=box.page + 1,
        box=box.box,
        tsa_url=setup.tsa_url,
        trust=trust,
        extra_certs=chain,
        certify=True,
    )
    _, leader_signed = sign_pdf(rendered.path, None, leader_spec, leader)
    organization_spec = SignatureSpec(
        role=Role.organization,
        level=level,
        organization=office.printed.name,
        tsa_url=setup.tsa_url,
        trust=trust,
        extra_certs=chain,
    )
    out = rendered.path.with_name("ket-qua-da-ky.pdf")
    sign_pdf(leader_signed, out, organization_spec, organization)
    report = verify_pdf(out, trust=trust)
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
        text=" ".join(filter(None, [dossier.citizen_name, dossier.code, dossier.procedure_key])),
    )
    return office.archive.put([signed], info).record_id


@flow(name="issue-result", log_prints=False)
def issue_result(
    dossier_code: str, setup: SigningSetup, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """Render, sign (leader then organisation), verify, archive; the dossier is ready to return.

    `fields` are values the clerk supplies or corrects (e.g. `marital_status`), over those
    extracted from the dossier's documents.
    """
    started = time.monotonic()
    office = current_office()
    dossier = office.register.get(dossier_code)
    if dossier.status is Status.supplement_requested:
        raise BadArgumentError(
            f"dossier {dossier_code} still waits for missing components",
            hint="take in the supplement first",
        )
    if dossier.status in (Status.result_signed, Status.returned):
        raise BadArgumentError(f"dossier {dossier_code} already has a signed result")
    procedure = office.catalogue.get(dossier.procedure_key)
    template = procedure.result.template
    if dossier.status is Status.received:
        dossier = office.register.start_processing(dossier_code)
    rendered = render_task(office, dossier, template, setup.signer_name, dict(fields or {}))
    signed = sign_task(office, rendered, setup)
    record_id = archive_result_task(office, dossier, signed, rendered.pages)
    dossier = office.register.mark_result_signed(dossier_code)
    result = {
        "dossier_code": dossier.code,
        "status": dossier.status.value,
        "result_pdf": str(signed),
        "record_id": record_id,
        "level": setup.level,
        "timeliness": dossier.timeliness.value if dossier.timeliness else None,
    }
    create_markdown_artifact(
        "\n".join(
            [
                f"# Kết quả hồ sơ {dossier.code}",
                "",
                f"- Mẫu kết quả: `{template}`, ký số {setup.level} (lãnh đạo, rồi cơ quan)",
                f"- Lưu trữ: `{record_id}`",
                f"- Đúng hạn: {dossier.timeliness.label_vi if dossier.timeliness else '-'}",
                f"- Thời gian: {time.monotonic() - started:.1f} s",
            ]
        ),
        key="result-" + "".join(c if c.isalnum() else "-" for c in dossier.code.lower()),
        description="Ký và lưu trữ kết quả",
    )
    return result
