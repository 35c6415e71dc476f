"""What a citizen sees without an account: the dossier's status behind the receipt's QR code.

Each dossier gets one unguessable lookup token (16 characters of Crockford base32: 80 random
bits), printed beside the QR as `ABCD-EFGH-JKMN-PQRS` so it can be typed in, and carried by the
QR's URL. The token is not derived from the dossier code, and the code alone opens nothing.
`PublicLinks` keeps the tokens (`dossier_public_links`); `public_status` turns a dossier into the
page's content: procedure, status in plain Vietnamese, dates, what is missing, where to collect
the result, and the citizen's name as initials only.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from dossiers.calendar import to_local
from dossiers.dossier import Dossier, Status
from dossiers.forms.pdf import Office
from dossiers.models import PublicLinkRow
from motcua.errors import ServiceUnavailableError
from motcua.types import nfc

__all__ = [
    "TOKEN_LENGTH",
    "PublicLinks",
    "PublicStatus",
    "format_token",
    "in_session",
    "initials",
    "new_token",
    "normalise_token",
    "public_status",
]

T = TypeVar("T")

# Crockford's base32: no I, L, O, U, so a token read aloud or typed from paper survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_LENGTH = 16  # 80 bits
_TYPED_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NOT_TOKEN = re.compile(r"[\s\-.]+")


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def format_token(token: str) -> str:
    """The token as printed: four groups of four (`ABCD-EFGH-JKMN-PQRS`)."""
    return "-".join(token[i : i + 4] for i in range(0, len(token), 4))


def normalise_token(text: str) -> str | None:
    """A typed or scanned token in its stored form, or None when it cannot be one: case,
    spaces and dashes do not matter, and O/I/L read as 0/1 (Crockford)."""
    candidate = _NOT_TOKEN.sub("", text.strip()).upper().translate(_TYPED_ALIASES)
    if len(candidate) != TOKEN_LENGTH or any(c not in ALPHABET for c in candidate):
        return None
    return candidate


def initials(name: str | None) -> str | None:
    """`Nguyễn Thị Hằng` → `N. T. H.`: all the page shows of who handed the dossier in."""
    if not name or not name.strip():
        return None
    return " ".join(f"{part[0].upper()}." for part in nfc(name).split() if part[0].isalpha())


def in_session(engine: Engine, work: Callable[[Session], T], what: str) -> T:
    """Run `work` in one transaction; database failures other than integrity become
    `ServiceUnavailableError`."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return work(session)
    except IntegrityError:
        raise
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError(
            f"{what}: {type(exc).__name__}: {getattr(exc, 'orig', None) or exc}",
            hint="check that the database is reachable and `motcua` created its tables",
        ) from None


class PublicLinks:
    """The lookup token of each dossier, made on first use; revocable and renewable."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def ensure(self, code: str) -> str | None:
        """The dossier's token, made now if it has none; None once revoked (not renewed)."""

        def read(session: Session) -> PublicLinkRow | None:
            return session.get(PublicLinkRow, code)

        row = in_session(self.engine, read, "public links")
        if row is not None:
            return None if row.revoked_at is not None else row.token

        def add(session: Session) -> str:
            session.add(PublicLinkRow(dossier_code=code, token=new_token(),
                                      created_at=self._clock()))  # fmt: skip
            session.flush()
            found = session.get(PublicLinkRow, code)
            assert found is not None
            return found.token

        try:
            return in_session(self.engine, add, "public links")
        except IntegrityError:  # another door made it meanwhile: theirs is the one printed
            again = in_session(self.engine, read, "public links")
            if again is None:
                raise
            return None if again.revoked_at is not None else again.token

    def revoke(self, code: str) -> bool:
        """The token stops opening the page; False when the dossier had no active one."""

        def revoke(session: Session) -> bool:
            row = session.get(PublicLinkRow, code)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = self._clock()
            return True

        return in_session(self.engine, revoke, "public links")

    def renew(self, code: str) -> str:
        """A new token for the dossier (the old one becomes unknown); print the receipt again."""

        def renew(session: Session) -> str:
            row = session.get(PublicLinkRow, code)
            token = new_token()
            if row is None:
                session.add(PublicLinkRow(dossier_code=code, token=token,
                                          created_at=self._clock()))  # fmt: skip
            else:
                row.token, row.created_at, row.revoked_at = token, self._clock(), None
            return token

        return in_session(self.engine, renew, "public links")

    def code_of(self, token: str) -> str | None:
        """The dossier an active token opens, or None (unknown, revoked, or not a token)."""
        clean = normalise_token(token)
        if clean is None:
            return None

        def find(session: Session) -> str | None:
            row = session.execute(
                select(PublicLinkRow).where(PublicLinkRow.token == clean)
            ).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            return row.dossier_code

        return in_session(self.engine, find, "public links")


# What each status means to the citizen, in plain words.
_PLAIN = {
    Status.received: ("Đã tiếp nhận", "Hồ sơ đã được tiếp nhận đầy đủ và sẽ được chuyển giải "
                      "quyết."),
    Status.processing: ("Đang giải quyết", "Hồ sơ đang được cán bộ giải quyết. Ông/bà chưa cần "
                        "làm gì thêm."),
    Status.supplement_requested: ("Cần bổ sung giấy tờ", "Hồ sơ còn thiếu giấy tờ. Ông/bà vui "
                                  "lòng mang các giấy tờ dưới đây đến nơi nộp hồ sơ."),
    Status.result_signed: ("Đã có kết quả", "Kết quả đã sẵn sàng. Mời ông/bà đến nhận kết quả, "
                           "mang theo giấy tiếp nhận hồ sơ."),
    Status.returned: ("Đã trả kết quả", "Kết quả đã được trao cho ông/bà."),
    Status.refused: ("Không giải quyết", "Hồ sơ không được giải quyết. Lý do ghi trong phiếu từ "
                     "chối đã gửi ông/bà; ông/bà có thể liên hệ nơi nộp hồ sơ để được hướng dẫn."),
    Status.withdrawn: ("Đã rút hồ sơ", "Hồ sơ đã được rút theo đề nghị của người nộp."),
}  # fmt: skip
# How far along the dossier is, for the progress line: received, processing, result, returned.
_STEP = {Status.received: 1, Status.supplement_requested: 1, Status.processing: 2,
         Status.result_signed: 3, Status.returned: 4, Status.refused: 0,
         Status.withdrawn: 0}  # fmt: skip


@dataclass(frozen=True)
class PublicStatus:
    """The public page's content: nothing the receipt does not already say, no personal data
    beyond the initials."""

    dossier_code: str
    procedure: str
    status: Status
    status_label: str  # plain Vietnamese
    explanation: str
    step: int  # 1 received … 4 returned; 0 closed without a result
    initials: str | None
    received_on: dt.date
    due_date: dt.date | None
    new_due_date: dt.date | None  # the Mẫu 04 appointment of a late dossier
    missing: tuple[str, ...]  # labels of what a supplement must bring
    collect_at: str  # where the result is handed over
    contact: str | None
    returned_on: dt.date | None
    late: bool  # past its due date and still without a result
    rating: int | None = None  # the citizen's satisfaction, once given

    @property
    def can_rate(self) -> bool:
        """The result was handed over and the dossier is not rated yet."""
        return self.status is Status.returned and self.rating is None

    @property
    def appointment(self) -> dt.date | None:
        return self.new_due_date or self.due_date


def public_status(
    dossier: Dossier,
    *,
    procedure_name: str,
    missing_labels: Sequence[str],
    office: Office,
    today: dt.date,
    rating: int | None = None,
) -> PublicStatus:
    label, explanation = _PLAIN[dossier.status]
    contact = f"Điện thoại: {office.phone}" if office.phone else None
    return PublicStatus(
        dossier_code=dossier.code,
        procedure=procedure_name,
        status=dossier.status,
        status_label=label,
        explanation=explanation,
        step=_STEP[dossier.status],
        initials=initials(dossier.citizen_name),
        received_on=to_local(dossier.received_at).date(),
        due_date=dossier.due_date,
        new_due_date=dossier.new_due_date,
        missing=tuple(missing_labels) if dossier.status is Status.supplement_requested else (),
        collect_at=f"{office.desk}, {office.name}",
        contact=contact,
        returned_on=to_local(dossier.returned_at).date() if dossier.returned_at else None,
        late=dossier.is_overdue(today)
        and (dossier.new_due_date is None or today > dossier.new_due_date),
        rating=rating,
    )
