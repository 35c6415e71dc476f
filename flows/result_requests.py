"""Requests about a dossier's result, the one way each is done whichever door calls it:
draft the result, sign drafts with the leader's server-side key, sign on the leader's device
(prepare, then finish), read the draft, download the signed result.

A door (the web, the e-office API) parses the request, checks the permission and calls one of
these with the acting person (`actor`). The long work (`flows.result.draft_result`,
`flows.result.complete_result`) runs as a job of the door's `Jobs` queue; each request, each
refusal and each failed job leaves its entry in the audit journal (`office.journal_event`), and
`flows.result` writes the drafted/signed entries and the `result.signed` webhook event.

`flows.result` imports Prefect: this module imports it only when a request needs it, on an
office whose door configured Prefect first (`Services.flows_office()` on the web server).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from dossiers.register import RESOLVED, Dossier, Status
from flows.context import office_in_use
from motcua.errors import BadArgumentError, CheckFailedError, ConfigurationError, MotcuaError
from motcua.office import Office
from motcua.types import nfc

if TYPE_CHECKING:
    from types import ModuleType

    from flows.result import Draft
    from flows.signing_keys import SigningSetup
    from signing.interrupted import PendingSignature

log = logging.getLogger("motcua.flows.result_requests")

MAX_BATCH = 50  # results one signing job signs


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


J = TypeVar("J", bound=_HasId)  # the door's own job type, returned as is
_J_co = TypeVar("_J_co", bound=_HasId, covariant=True)


class Jobs(Protocol[_J_co]):
    """The door's queue of background jobs (`motcua.web.jobs.JobRunner` on the web server)."""

    def submit(
        self,
        kind: str,
        work: Callable[[], Mapping[str, Any]],
        *,
        actor: str,
        dossier_code: str | None = None,
    ) -> _J_co: ...


def _result() -> ModuleType:
    import flows.result

    return flows.result


def signing_setup(office: Office) -> SigningSetup:
    """The signing set-up, read from the settings at each request (keys may change)."""
    setup: SigningSetup = _result().SigningSetup.from_settings(office.settings)
    return setup


def record_failure(office: Office, actor: str, action: str, code: str, exc: Exception) -> None:
    """The journal entry of a failed job step; a journal that fails too is only logged (the
    job's own failure is what the user must see)."""
    reason = exc.message if isinstance(exc, MotcuaError) else type(exc).__name__
    try:
        office.journal_event(actor=actor, action=action, target_id=code,
                             details={"error": reason[:500]})  # fmt: skip
    except MotcuaError as audit_error:
        log.warning("audit of %s failed: %s", action, audit_error.message)


def current_draft(office: Office, code: str) -> Draft | None:
    """The dossier's draft record (`ket-qua.json`), if any."""
    draft: Draft | None = _result().read_draft(office.dossier_dir(code))
    return draft


def waiting_draft(office: Office, dossier: Dossier, previewed_sha256: str | None = None) -> Draft:
    """The draft of `dossier` if it waits for the leader, else `CheckFailedError`. With
    `previewed_sha256` (a sign request), a draft other than the one previewed is refused too."""
    result = _result()
    code = dossier.code
    draft = current_draft(office, code)
    if draft is None or not result.waits_for_leader(dossier, draft):
        raise CheckFailedError(
            f"hồ sơ {code} không có dự thảo kết quả chờ ký (no draft result waits for signing; "
            f"the dossier is {dossier.status.value})",
            hint="the clerk drafts the result first; a signed result is not signed again",
        )
    if not draft.pdf.is_file():
        raise CheckFailedError(
            f"the draft result of {code} is missing", hint="draft the result again"
        )
    if previewed_sha256 is not None:
        result.check_previewed(code, draft, previewed_sha256)
    return draft


def _public(result: Mapping[str, Any]) -> dict[str, Any]:
    """A completed result without server paths."""
    return {k: v for k, v in result.items() if k != "result_pdf"}


# --- drafting -------------------------------------------------------------------------------


def request_draft(
    office: Office,
    jobs: Jobs[J],
    dossier: Dossier,
    overrides: Mapping[str, str],
    *,
    signer_name: str | None,
    actor: str,
) -> J:
    """Check that the result's fields are complete, then draft it as a job."""
    code = dossier.code
    if dossier.status in RESOLVED:
        raise CheckFailedError(
            f"hồ sơ {code} đã có kết quả được ký (already signed)",
            hint="a signed result is not drafted again",
        )
    if dossier.status is Status.supplement_requested:
        raise CheckFailedError(
            f"hồ sơ {code} còn chờ bổ sung (waits for a supplement)",
            hint="take in the supplement first",
        )
    result = _result()
    clean = {nfc(k.strip()): nfc(v.strip()) for k, v in overrides.items() if v.strip()}
    inputs = result.result_inputs(office.catalogue, dossier, clean)
    labels = {f.key: f.label for f in inputs.fields}
    unknown = sorted(k for k in clean if k not in labels)
    if unknown:
        raise BadArgumentError(
            f"mẫu kết quả không có trường {', '.join(unknown)}",
            hint="các trường của mẫu (khóa): " + ", ".join(sorted(labels)),
        )
    if inputs.missing:
        # each entry reads `key (label)`: the officer reads the labels, a program the keys
        keys = [m.partition(" (")[0] for m in inputs.missing]
        raise BadArgumentError(
            "chưa đủ thông tin để lập kết quả, còn thiếu: "
            + "; ".join(labels.get(k, m) for k, m in zip(keys, inputs.missing, strict=True)),
            hint="nhập các trường còn thiếu rồi lập dự thảo lại; khóa của chúng: "
            + ", ".join(keys),
        )

    def work() -> dict[str, Any]:
        try:
            with office_in_use(office):
                drafted: dict[str, Any] = result.draft_result(code, clean, signer_name, actor)
        except Exception as exc:
            record_failure(office, actor, "result.draft_failed", code, exc)
            raise
        keys = ("dossier_code", "status", "template", "pages", "drafted_at", "draft_sha256")
        return {key: drafted[key] for key in keys}

    job = jobs.submit("draft-result", work, actor=actor, dossier_code=code)
    office.journal_event(actor=actor, action="result.draft_requested", target_id=code,
                         details={"job_id": job.id, "fields": sorted(clean)})  # fmt: skip
    return job


# --- signing with the leader's server-side key ----------------------------------------------


def request_signing(
    office: Office,
    jobs: Jobs[J],
    dossiers: Sequence[Dossier],
    previewed: Mapping[str, str],
    *,
    actor: str,
    pin: str | None = None,
) -> J:
    """One job signing each waiting draft with the leader's key, each only if it is the draft
    the leader previewed (`previewed`: code → SHA-256).

    The key is the account's own when it has one (`flows.signing_keys.personal_binding`),
    opened here with `pin` so a wrong PIN is refused before any job starts (`WrongPinError`);
    else the server's shared key, if the account may use it. The stamp carries the name of
    the key's certificate."""
    unique = list({d.code: d for d in dossiers}.values())
    if not unique:
        raise BadArgumentError("chưa chọn hồ sơ nào để ký (no dossier chosen)")
    if len(unique) > MAX_BATCH:
        raise BadArgumentError(f"at most {MAX_BATCH} results at a time")
    unnamed = [d.code for d in unique if not previewed.get(d.code)]
    if unnamed:
        raise BadArgumentError(
            "yêu cầu ký không nêu dự thảo đã xem của hồ sơ "
            + ", ".join(unnamed)
            + " (the request names no previewed draft SHA-256)",
            hint="send draft_sha256 of each draft, as the queue lists it",
        )
    sha = {d.code: previewed[d.code].strip().lower() for d in unique}
    for dossier in unique:
        waiting_draft(office, dossier, sha[dossier.code])
    setup = signing_setup(office)
    from flows import signing_keys as keys

    personal = keys.personal_binding(office, actor)
    own_key = None
    if personal is not None:
        own_key = keys.open_personal_key(office, setup, actor, pin or "")
        configured = office.settings.signing_leader_name
        own_image = configured is not None and nfc(configured) == personal.signer_name
        setup = dataclasses.replace(
            setup,
            signer_name=personal.signer_name,
            signer_title=personal.title or setup.signer_title,
            signature_image=setup.signature_image if own_image else None,
        )
    elif setup.leader_key_source is None:
        raise ConfigurationError(
            "máy chủ chưa được cấu hình khóa ký của lãnh đạo (no server-side leader key)",
            hint="set MOTCUA_SIGNING_LEADER_P12 or MOTCUA_SIGNING_LEADER_PKCS11_MODULE/_TOKEN/"
            "_KEY, or sign on the leader's own device (prepare, then finish)",
        )
    else:
        with office_in_use(office):
            keys.check_server_key_account(setup, actor)  # refused now, not in a failed job
    result = _result()
    codes = [d.code for d in unique]

    def work() -> dict[str, Any]:
        signed: list[dict[str, Any]] = []
        failed: list[dict[str, str]] = []
        with contextlib.ExitStack() as stack:
            stack.enter_context(office_in_use(office))
            if own_key is not None:
                stack.callback(own_key.close)
                stack.enter_context(keys.personal_key_in_use(own_key))
            for code in codes:
                try:
                    done = result.complete_result(code, setup, None, sha[code], actor)
                except MotcuaError as exc:
                    record_failure(office, actor, "result.sign_failed", code, exc)
                    failed.append({"dossier_code": code, "error": exc.message})
                    continue
                signed.append(_public(done))
        if not signed:
            first = failed[0]
            raise CheckFailedError(
                f"không ký được {first['dossier_code']}: {first['error']}"
                + (f" (và {len(failed) - 1} hồ sơ khác)" if len(failed) > 1 else ""),
                hint="xem lỗi rồi ký lại (see the error, then sign again)",
            )
        return {"signed": signed, "failed": failed}

    key_source = f"own-{personal.kind}" if personal else setup.leader_key_source or ""
    job = jobs.submit(
        "sign-results", work, actor=actor, dossier_code=codes[0] if len(codes) == 1 else None
    )
    for code in codes:
        office.journal_event(actor=actor, action="result.sign_requested", target_id=code,
                             details={"job_id": job.id, "key": key_source})  # fmt: skip
    return job


# --- signing on the leader's own device -----------------------------------------------------


def device_spec(office: Office, setup: SigningSetup, draft: Draft, signer: str) -> Any:
    """The leader's signature as on the server, named from the device's certificate; the
    configured handwritten image only when the certificate is the configured leader's."""
    configured = office.settings.signing_leader_name
    own_image = configured is None or nfc(configured).casefold() == nfc(signer).casefold()
    return _result().leader_spec(
        setup, office, draft, signer_name=None, with_signature_image=own_image
    )


def prepare_on_device(
    office: Office, dossier: Dossier, chain_pem: str, previewed_sha256: str, *, actor: str
) -> tuple[Draft, PendingSignature]:
    """Step 1: the signed attributes the device signs, for a draft the leader previewed; a
    certificate the trust anchors refuse is journalled (`signing.refused`) and raised."""
    from signing.interrupted import certificates_from_pem, prepare_signature

    draft = waiting_draft(office, dossier, previewed_sha256)
    certificates = certificates_from_pem(chain_pem)
    leaf = certificates[0]
    signer = nfc(str(leaf.subject.native.get("common_name", "")))
    try:
        _check_device_account(office, leaf, signer, actor)
        pending = prepare_signature(
            draft.pdf, device_spec(office, signing_setup(office), draft, signer), certificates
        )
    except CheckFailedError as exc:
        office.journal_event(actor=actor, action="signing.refused", target_id=dossier.code,
                             details={"step": "prepare", "serial": format(leaf.serial_number, "x"),
                                      "error": exc.message[:500]})  # fmt: skip
        raise
    return draft, pending


def _check_device_account(office: Office, leaf: Any, signer: str, actor: str) -> None:
    """A certificate bound to another leader account (or to the organisation) is refused at
    step 1, before the device signs anything; step 2 checks the signature's again."""
    from flows.signing_keys import check_signer_account
    from signing.roles import fingerprint, load_roles

    binding = load_roles(office.settings.home).of(fingerprint(leaf))
    if binding is not None and binding.role == "organization":
        raise CheckFailedError(
            "chứng thư số này là của cơ quan: lãnh đạo ký bằng chứng thư số của mình",
            hint="chọn chứng thư số của lãnh đạo trên thiết bị",
        )
    check_signer_account(signer, binding.account if binding else None, actor)


def record_prepared(
    office: Office, code: str, session_id: str, pending: PendingSignature, *, actor: str
) -> None:
    """The journal entry of a prepared device signature (the session's id shortened)."""
    from asn1crypto import x509

    leaf = x509.Certificate.load(pending.signing_cert)
    office.journal_event(actor=actor, action="signing.prepared", target_id=code,
                         details={"session": session_id[:8],
                                  "serial": format(leaf.serial_number, "x"),
                                  "certificate_sha256": hashlib.sha256(leaf.dump()).hexdigest(),
                                  "level": signing_setup(office).level})  # fmt: skip


def refuse_device(
    office: Office, code: str, reason: str, exc: Exception, *, actor: str
) -> NoReturn:
    """Journal a refused step 2 (`reused`, `expired`, `draft_changed`, `signature_mismatch`)
    and raise `exc`."""
    office.journal_event(actor=actor, action="signing.refused", target_id=code,
                         details={"step": "finish", "reason": reason})  # fmt: skip
    raise exc


def finish_on_device(
    office: Office,
    jobs: Jobs[J],
    code: str,
    pending: PendingSignature,
    value: bytes,
    draft: Draft,
    *,
    session_id: str,
    actor: str,
) -> J:
    """Step 2: embed the device's signature value, then the organisation's signature, the
    verification and the archive as a job. A failure to embed is journalled and raised."""
    from signing.interrupted import finish_signature
    from signing.sign import write_atomically

    result = _result()
    setup = signing_setup(office)
    try:
        signed = finish_signature(pending, value, device_spec(office, setup, draft, pending.signer))
        target: Path = draft.pdf.with_name(result.LEADER_SIGNED_PDF)
        write_atomically(target, signed)
    except MotcuaError as exc:
        record_failure(office, actor, "result.leader_sign_failed", code, exc)
        raise
    office.journal_event(actor=actor, action="result.leader_signed", target_id=code,
                         details={"session": session_id[:8], "method": "device",
                                  "level": setup.level})  # fmt: skip
    previewed = draft.sha256

    def work() -> dict[str, Any]:
        try:
            with office_in_use(office):
                done: dict[str, Any] = result.complete_result(
                    code, setup, str(target), previewed, actor
                )
        except Exception as exc:
            record_failure(office, actor, "result.sign_failed", code, exc)
            raise
        return {"signed": [_public(done)], "failed": []}

    return jobs.submit("sign-results", work, actor=actor, dossier_code=code)


# --- reading ------------------------------------------------------------------------------


def draft_pdf(office: Office, dossier: Dossier, *, actor: str) -> bytes:
    """The draft waiting for the leader, read to be previewed (journalled)."""
    draft = waiting_draft(office, dossier)
    content = draft.pdf.read_bytes()
    office.journal_event(actor=actor, action="result.draft_viewed", target_id=dossier.code)
    return content


def signed_result(office: Office, dossier: Dossier, *, actor: str) -> bytes | None:
    """The signed result: the office's copy, else the archived one (checked against its bag);
    None when neither is there. The download is journalled."""
    import tempfile

    code = dossier.code
    if dossier.status not in RESOLVED:
        raise CheckFailedError(
            f"hồ sơ {code} chưa có kết quả được ký", hint="lãnh đạo ký dự thảo kết quả trước"
        )
    draft = current_draft(office, code)
    if draft is None or draft.signed_pdf is None:
        return None
    if draft.signed_pdf.is_file():
        content = draft.signed_pdf.read_bytes()
    elif draft.record_id:
        with tempfile.TemporaryDirectory(prefix="motcua-result-") as folder:
            bag = office.archive.get(draft.record_id, Path(folder))
            content = (bag / "data" / draft.signed_pdf.name).read_bytes()
    else:
        return None
    office.journal_event(actor=actor, action="result.downloaded", target_id=code)
    return content
