"""Every operation on a dossier after intake, the one way each is done whichever door calls it.

The web routes, the CLI, the e-office API and Prefect workers all call these functions; each
checks the office's rules, changes the register, prints the form the operation issues into the
dossier's folder, and ends with `office.journal_event(...)`: one audit-journal entry (the same
entry, actor aside, from every door) and one webhook event for every status change.

`actor` names who acted: `user:<login>` for an account, `cli:<os user>` at the terminal,
`eoffice:<token name>` for the e-office system. This module imports no Prefect (the web server
imports it before Prefect is configured); `flows.operations` makes each operation a Prefect task
and runs any of them as the `dossier-operation` flow, for a worker or a deployment.

Results are typed (`Outcome`, with `.as_json()`), never loose dicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossiers.calendar import VN_TZ
from dossiers.dossier import OTHER_COMPONENT, citizen_name_after, field_value
from dossiers.forms.notices import (
    Citizen,
    RenderedForm,
    render_apology,
    render_receipt,
    render_supplement_request,
)
from dossiers.procedures import Procedure
from dossiers.register import CLOSED, RESOLVED, Dossier, Status, mask_field_value
from flows.public import status_link
from motcua.errors import BadArgumentError, CheckFailedError
from motcua.office import Office
from motcua.types import nfc

RECEIPT_FILE = "giay-tiep-nhan.pdf"  # Mẫu 01
SUPPLEMENT_FILE = "phieu-yeu-cau-bo-sung.pdf"  # Mẫu 02
REFUSAL_FILE = "phieu-tu-choi.pdf"  # Mẫu 03
APOLOGY_FILE = "phieu-xin-loi.pdf"  # Mẫu 04
CONTROL_SHEET_FILE = "phieu-kiem-soat.pdf"  # Mẫu 05, printed again at every status change
_NO_NAME = "……………………"


@dataclass(frozen=True)
class Outcome:
    """What an operation left: the dossier as it is now and the forms it printed (name → path)."""

    dossier: Dossier
    action: str
    forms: Mapping[str, Path] = field(default_factory=dict)
    changed: tuple[str, ...] = ()  # the field keys a correction changed

    def as_json(self) -> dict[str, Any]:
        out = self.dossier.to_json()
        out["action"] = self.action
        out.update({name: str(path) for name, path in self.forms.items()})
        if self.changed:
            out["changed_fields"] = list(self.changed)
        return out


def event_data(dossier: Dossier, **extra: Any) -> dict[str, Any]:
    """The webhook payload of a dossier event: codes, status and dates; no personal data."""
    data: dict[str, Any] = {
        "dossier_code": dossier.code,
        "procedure": dossier.procedure_key,
        "status": dossier.status.value,
        "received_at": dossier.received_at.isoformat(),
        "due_date": dossier.due_date.isoformat() if dossier.due_date else None,
        "missing_components": list(dossier.missing_components),
    }
    data.update(extra)
    return data


def finish(
    office: Office,
    dossier: Dossier,
    *,
    actor: str,
    action: str,
    details: Mapping[str, Any] | None = None,
    event: bool = True,
    forms: Mapping[str, Path] | None = None,
    changed: Sequence[str] = (),
) -> Outcome:
    if event:
        forms = {**(forms or {}), "control_sheet_pdf": control_sheet(office, dossier)}
    office.journal_event(
        actor=actor,
        action=action,
        target_id=dossier.code,
        details={"status": dossier.status.value, **(details or {})},
        event=action if event else None,
        data=event_data(dossier),
    )
    return Outcome(dossier, action, dict(forms or {}), tuple(changed))


def _today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def _procedure(office: Office, dossier: Dossier) -> Procedure:
    return office.catalogue.get(dossier.procedure_key)


def _citizen(dossier: Dossier) -> Citizen:
    return Citizen(name=dossier.citizen_name or _NO_NAME)


def component_keys(dossier: Dossier) -> list[str]:
    """What the dossier holds, as the receipt lists it: each document's component, else its kind
    (printed "Giấy tờ khác" when the procedure has no such component)."""
    return [d.component or OTHER_COMPONENT for d in dossier.documents]


# --- the forms, printed into the dossier's folder -------------------------------------------


def print_receipt(
    office: Office, dossier: Dossier, *, clerk_name: str | None = None, out: Path | None = None
) -> RenderedForm:
    """Mẫu 01 for a complete dossier (its appointment date)."""
    if dossier.due_date is None:
        raise CheckFailedError(
            f"hồ sơ {dossier.code} đang chờ bổ sung, chưa có ngày hẹn trả",
            hint="giấy tiếp nhận được in khi hồ sơ đã đủ thành phần",
        )
    link = status_link(office, dossier.code)
    return render_receipt(
        out or office.dossier_dir(dossier.code) / RECEIPT_FILE,
        office=office.printed,
        dossier_code=dossier.code,
        citizen=_citizen(dossier),
        procedure=_procedure(office, dossier),
        received_kinds=component_keys(dossier),
        received_at=dossier.received_at,
        due_date=dossier.due_date,
        clerk_name=clerk_name,
        status_url=link.url if link else None,
        lookup_code=link.printed if link else None,
    )


def print_supplement_request(
    office: Office, dossier: Dossier, *, clerk_name: str | None = None, out: Path | None = None
) -> RenderedForm:
    """Mẫu 02 for a dossier waiting for a supplement, dated the day it was asked for."""
    if dossier.status is not Status.supplement_requested:
        raise CheckFailedError(
            f"hồ sơ {dossier.code} ({dossier.status.label_vi}) không chờ bổ sung",
            hint="phiếu yêu cầu bổ sung chỉ in khi hồ sơ đang chờ bổ sung",
        )
    asked = [h for h in dossier.history if h.status is Status.supplement_requested]
    link = status_link(office, dossier.code)
    return render_supplement_request(
        out or office.dossier_dir(dossier.code) / SUPPLEMENT_FILE,
        office=office.printed,
        citizen=_citizen(dossier),
        procedure=_procedure(office, dossier),
        missing_kinds=list(dossier.missing_components),
        requested_on=asked[-1].at.date() if asked else _today(),
        dossier_code=dossier.code,
        clerk_name=clerk_name,
        status_url=link.url if link else None,
        lookup_code=link.printed if link else None,
    )


def control_sheet(office: Office, dossier: Dossier) -> Path:
    """Mẫu 05, the processing control sheet, as the dossier's history stands now."""
    from dossiers.forms.registers import render_control_sheet

    form = render_control_sheet(
        office.dossier_dir(dossier.code) / CONTROL_SHEET_FILE,
        office=office.printed,
        dossier=dossier,
        procedure=_procedure(office, dossier),
    )
    path: Path = form.path
    return path


def intake_form(office: Office, dossier: Dossier) -> dict[str, Path]:
    """The form a dossier's intake (or a supplement) issues: Mẫu 01 when it is complete, else
    Mẫu 02; as the `receipt_pdf` / `supplement_pdf` keys of the JSON contracts. Mẫu 05 is
    printed beside it into the dossier's folder."""
    sheet = {"control_sheet_pdf": control_sheet(office, dossier)}
    if dossier.status is Status.supplement_requested:
        return {"supplement_pdf": print_supplement_request(office, dossier).path, **sheet}
    return {"receipt_pdf": print_receipt(office, dossier).path, **sheet}


def printed_notice(
    office: Office, code: str, which: str, *, actor: str, clerk_name: str | None = None
) -> bytes:
    """Mẫu 01 (`receipt`) or Mẫu 02 (`supplement`) printed again for the counter; journaled."""
    dossier = office.register.get(code)
    printer = print_receipt if which == "receipt" else print_supplement_request
    import tempfile

    with tempfile.TemporaryDirectory(prefix="motcua-form-") as folder:
        form = printer(office, dossier, clerk_name=clerk_name, out=Path(folder) / "form.pdf")
        content = form.path.read_bytes()
    action = (
        "dossier.receipt_printed" if which == "receipt" else "dossier.supplement_notice_printed"
    )
    office.journal_event(actor=actor, action=action, target_id=code, details={})
    return content


def note_submission(
    office: Office,
    actor: str,
    job_id: str,
    procedure: str,
    received_at: str | None,
    files: Sequence[Path],
) -> None:
    """A dossier's files were handed in to run as job `job_id` (before the job records)."""
    office.journal_event(
        actor=actor,
        action="dossier.intake_submitted",
        target_kind="job",
        target_id=job_id,
        details={"procedure": procedure, "received_at": received_at,
                 "folder": files[0].parent.name if files else None,
                 "files": [{"name": f.name, "size": f.stat().st_size} for f in files]},
    )  # fmt: skip


# --- the operations -------------------------------------------------------------------------


def accept(office: Office, code: str, *, actor: str) -> Outcome:
    """A received, complete dossier goes to processing."""
    dossier = office.register.get(code)
    if dossier.status is not Status.received:
        raise CheckFailedError(
            f"hồ sơ {code} ({dossier.status.label_vi}) không ở trạng thái chờ tiếp nhận",
            hint="hồ sơ đã được tiếp nhận rồi, hoặc đang chờ bổ sung",
        )
    return finish(office, office.register.start_processing(code), actor=actor,
                   action="dossier.accepted")  # fmt: skip


def correct_fields(
    office: Office,
    code: str,
    position: int,
    values: Mapping[str, str | list[str]],
    *,
    actor: str,
    allowed_new: Sequence[str] = (),
) -> Outcome:
    """Store the clerk's values for one document's fields (history kept; ID numbers masked in
    the journal); the citizen's name follows when a name field changed."""
    dossier = office.register.get(code)
    before = _document(dossier, position)
    updated = office.register.correct_fields(
        code,
        position,
        values,
        by=actor,
        allowed_new=tuple(allowed_new),
        citizen_name=citizen_name_after(dossier, position, values),
    )
    after = _document(updated, position)
    changed = [k for k in values if after.fields.get(k) != before.fields.get(k)]
    if not changed:
        return Outcome(updated, "dossier.fields_corrected")
    masked = {
        key: {"old": mask_field_value(key, field_value(before.fields.get(key))),
              "new": mask_field_value(key, field_value(after.fields.get(key)))}
        for key in changed
    }  # fmt: skip
    return finish(office, updated, actor=actor, action="dossier.fields_corrected",
                   details={"position": position, "kind": before.kind, "fields": masked},
                   event=False, changed=changed)  # fmt: skip


def confirm_components(
    office: Office, code: str, assignment: Mapping[int, str | None], *, actor: str
) -> Outcome:
    """The clerk confirms or changes which component each document is (position → component
    key, None or "giay-to-khac" for other paper); completeness follows, and the form with it."""
    dossier = office.register.get(code)
    clean = {p: (None if k in (None, "", OTHER_COMPONENT) else k) for p, k in assignment.items()}
    updated = office.register.assign_components(code, _procedure(office, dossier), clean)
    forms = intake_form(office, updated) if updated.status is not dossier.status else {}
    return finish(office, updated, actor=actor, action="dossier.components_confirmed",
                   details={"components": {str(p): k for p, k in sorted(clean.items())}},
                   event=updated.status is not dossier.status, forms=forms)  # fmt: skip


def request_supplement(office: Office, code: str, missing: Sequence[str], *, actor: str) -> Outcome:
    """Processing found the dossier incomplete: what is missing, and Mẫu 02 to hand over."""
    dossier = office.register.get(code)
    procedure = _procedure(office, dossier)
    known = {c.kind for c in procedure.components}
    asked = list(dict.fromkeys(k.strip() for k in missing if k.strip()))
    unknown = [k for k in asked if k not in known]
    if not asked or unknown:
        raise BadArgumentError(
            f"“{unknown[0]}” không phải thành phần của thủ tục {procedure.key}"
            if unknown
            else f"yêu cầu bổ sung hồ sơ {code} phải nêu thành phần còn thiếu",
            hint="dùng một trong: " + ", ".join(sorted(known)),
        )
    updated = office.register.request_supplement(code, asked)
    form = print_supplement_request(office, updated)
    return finish(office, updated, actor=actor, action="dossier.supplement_requested",
                   details={"missing": asked}, forms={"supplement_pdf": form.path})  # fmt: skip


def refuse(office: Office, code: str, reasons: Sequence[str], *, actor: str) -> Outcome:
    """The dossier is refused with its reasons (Mẫu 03); it is kept, never deleted."""
    clean = [nfc(r.strip()) for r in reasons if r and r.strip()]
    dossier = office.register.refuse(code, clean)
    form = _print_refusal(office, dossier, clean)
    return finish(office, dossier, actor=actor, action="dossier.refused",
                   details={"reasons": len(clean)}, forms={"refusal_pdf": form})  # fmt: skip


def withdraw(office: Office, code: str, *, requested_by: str, actor: str) -> Outcome:
    """The citizen withdrew the dossier (rút hồ sơ); who asked is in its history."""
    dossier = office.register.withdraw(code, requested_by)
    return finish(office, dossier, actor=actor, action="dossier.withdrawn")


def change_procedure(office: Office, code: str, procedure_key: str, *, actor: str) -> Outcome:
    """Before acceptance the dossier moves to another procedure: components re-suggested,
    completeness and the due date recomputed, the form issued again."""
    before = office.register.get(code)
    procedure = office.catalogue.get(procedure_key)
    updated = office.register.change_procedure(code, procedure)
    return finish(office, updated, actor=actor, action="dossier.procedure_changed",
                   details={"from": before.procedure_key, "to": procedure.key},
                   forms=intake_form(office, updated))  # fmt: skip


RETURN_METHODS = {"truc-tiep": "trả trực tiếp", "buu-chinh": "gửi qua bưu chính",
                  "truc-tuyen": "trả trực tuyến"}  # fmt: skip


def mark_returned(
    office: Office,
    code: str,
    *,
    actor: str,
    collected_by: str | None = None,
    method: str = "truc-tiep",
    at: dt.datetime | None = None,
) -> Outcome:
    """The signed result was handed over: to whom and how (in person, by post, online)."""
    if method not in RETURN_METHODS:
        raise BadArgumentError(
            f"cách trả kết quả “{method}” không có", hint="một trong: " + ", ".join(RETURN_METHODS)
        )
    who = nfc(collected_by.strip()) if collected_by and collected_by.strip() else None
    note = RETURN_METHODS[method] + (f"; người nhận: {who}" if who else "")
    dossier = office.register.mark_returned(code, at=at, note=note)
    assert dossier.returned_at is not None
    return finish(office, dossier, actor=actor, action="dossier.returned",
                   details={"method": method,
                            "returned_at": dossier.returned_at.isoformat()})  # fmt: skip


def apologise(
    office: Office, code: str, new_due_date: dt.date, reasons: Sequence[str], *, actor: str
) -> Outcome:
    """A late (or soon late) unresolved dossier: the new date and Mẫu 04 to sign and send."""
    dossier = office.register.get(code)
    if dossier.due_date is None or dossier.status in RESOLVED | CLOSED:
        raise CheckFailedError(
            f"hồ sơ {code} ({dossier.status.label_vi}): thư xin lỗi chỉ dành cho hồ sơ chưa có "
            "kết quả và đã có ngày hẹn trả",
            hint="kiểm tra trạng thái và ngày hẹn của hồ sơ",
        )
    clean = [nfc(r.strip()) for r in reasons if r and r.strip()]
    if not clean:
        raise BadArgumentError(f"thư xin lỗi hồ sơ {code} phải nêu lý do chậm trả kết quả")
    updated = office.register.record_apology(code, new_due_date)
    assert updated.apology_issued_at is not None
    form = render_apology(
        office.dossier_dir(code) / APOLOGY_FILE,
        office=office.printed,
        dossier_code=code,
        citizen=_citizen(dossier),
        procedure=_procedure(office, dossier),
        received_at=dossier.received_at,
        due_date=dossier.due_date,
        new_due_date=new_due_date,
        reasons=clean,
        issued_on=updated.apology_issued_at.date(),
    )
    return finish(office, updated, actor=actor, action="dossier.apology_issued",
                   details={"new_due_date": new_due_date.isoformat()},
                   forms={"apology_pdf": form.path})  # fmt: skip


def _print_refusal(office: Office, dossier: Dossier, reasons: Sequence[str]) -> Path:
    from dossiers.forms.registers import render_refusal

    refused = next(h for h in reversed(dossier.history) if h.status is Status.refused)
    form = render_refusal(
        office.dossier_dir(dossier.code) / REFUSAL_FILE,
        office=office.printed,
        dossier=dossier,
        procedure=_procedure(office, dossier),
        reasons=list(reasons),
        refused_on=refused.at.date(),
    )
    path: Path = form.path
    return path


def _document(dossier: Dossier, position: int) -> Any:
    found = next((d for d in dossier.documents if d.position == position), None)
    if found is None:
        raise BadArgumentError(f"hồ sơ {dossier.code} không có tài liệu số {position}")
    return found
