"""The citizen's side of a dossier: its status link (the receipt's QR) and the status page.

`status_link(office, code)` is the link printed on Mẫu 01 and given by `motcua intake --json`
and `motcua dossier show --json` as `status_url` (the token is made on first use). The public
page asks `status_by_token`, which answers None for an unknown or revoked token, never which of
the two. `rate` records the citizen's satisfaction (once, after the result was returned) from the
desk or, `rate_by_token`, from the status page. Like `flows.dossier`, no Prefect here: the
web server imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dossiers.calendar import VN_TZ
from dossiers.dossier import Status
from dossiers.public import PublicStatus, format_token, public_status
from dossiers.satisfaction import Rating
from motcua.errors import BadArgumentError, CheckFailedError, MotcuaError
from motcua.office import Office

DEFAULT_STATUS_BASE = "http://127.0.0.1:8000/"
STATUS_PATH = "/tra-cuu"


@dataclass(frozen=True)
class StatusLink:
    token: str
    url: str  # what the QR carries

    @property
    def printed(self) -> str:
        """The token as printed beside the QR, in groups of four."""
        return format_token(self.token)


def status_base(office: Office) -> str:
    settings = office.settings
    return (settings.public_status_url or settings.web_public_url or DEFAULT_STATUS_BASE).rstrip(
        "/"
    )


def status_link(office: Office, code: str) -> StatusLink | None:
    """The dossier's status link, made now if it has none; None while it is revoked."""
    token = office.links.ensure(code)
    if token is None:
        return None
    return StatusLink(token, f"{status_base(office)}{STATUS_PATH}/{token}")


def status_url(office: Office, code: str) -> str | None:
    link = status_link(office, code)
    return None if link is None else link.url


def revoke_link(office: Office, code: str, *, actor: str) -> bool:
    office.register.get(code)  # an unknown code is an error, not a silent no-op
    revoked = office.links.revoke(code)
    office.journal_event(actor=actor, action="dossier.status_link_revoked", target_id=code,
                         details={"revoked": revoked})  # fmt: skip
    return revoked


def renew_link(office: Office, code: str, *, actor: str) -> StatusLink:
    """A new token (the old link stops working); the receipt must be printed again."""
    office.register.get(code)
    office.links.renew(code)
    office.journal_event(actor=actor, action="dossier.status_link_renewed", target_id=code,
                         details={})  # fmt: skip
    link = status_link(office, code)
    assert link is not None
    return link


def status_by_token(office: Office, token: str) -> PublicStatus | None:
    """What the public page shows for `token`, or None (unknown or revoked: the same answer)."""
    code = office.links.code_of(token)
    if code is None:
        return None
    try:
        dossier = office.register.get(code)
    except BadArgumentError:
        return None
    try:
        procedure = office.catalogue.get(dossier.procedure_key)
        name, labels = procedure.name, [procedure.label_of(k) for k in dossier.missing_components]
    except MotcuaError:  # a procedure since removed from the catalogue: still say something
        name, labels = dossier.procedure_key, list(dossier.missing_components)
    rated = office.ratings.get(code)
    return public_status(dossier, procedure_name=name, missing_labels=labels,
                         office=office.printed, today=dt.datetime.now(VN_TZ).date(),
                         rating=rated.score if rated else None)  # fmt: skip


def rate(
    office: Office, code: str, score: int, comment: str | None, *, actor: str, via: str
) -> Rating:
    """The citizen's satisfaction with a returned dossier, once (`CheckFailedError` after);
    journaled with the score, never the comment (the citizen's own words)."""
    dossier = office.register.get(code)
    if dossier.status is not Status.returned:
        raise CheckFailedError(
            f"hồ sơ {code} ({dossier.status.label_vi}) chưa trả kết quả",
            hint="người dân đánh giá khi đã nhận kết quả",
        )
    rating = office.ratings.record(code, dossier.procedure_key, score, comment, via=via)
    office.journal_event(actor=actor, action="dossier.rated", target_id=code,
                         details={"score": score, "via": via,
                                  "comment": rating.comment is not None})  # fmt: skip
    return rating


def rate_by_token(office: Office, token: str, score: int, comment: str | None) -> Rating | None:
    """A rating from the status page; None when the token opens nothing."""
    code = office.links.code_of(token)
    if code is None:
        return None
    return rate(office, code, score, comment, actor="citizen:status-page", via="status-page")
