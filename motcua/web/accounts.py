"""Local accounts (argon2id password hashes) and API tokens for the e-office system.

Passwords are hashed with argon2-cffi's defaults (argon2id) and re-hashed on sign-in when those
defaults change. API tokens are 256-bit random strings shown once; only their SHA-256 is stored
(a token is not guessable, so a slow hash buys nothing), with a short prefix to recognise them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from motcua.errors import BadArgumentError
from motcua.types import nfc
from motcua.web.db import open_engine, run
from motcua.web.models import WEB_ADDED_COLUMNS, TokenRow, UserRow, WebBase, tables_named
from motcua.web.permissions import LEGACY_SCOPES, SCOPES, Role
from motcua.web.throttle import SignInThrottle as SignInThrottle  # where services.py finds it

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_TOKEN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "mct_"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str | None
    role: Role
    active: bool
    session_epoch: int
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    scopes: tuple[str, ...] = LEGACY_SCOPES
    expires_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def state(self) -> str:
        """`active`, `revoked` or `expired` (now)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired(dt.datetime.now(dt.UTC)) else "active"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Users and API tokens in the `web_users` and `web_tokens` tables."""

    def __init__(
        self,
        engine: Engine | str,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.engine = open_engine(engine) if isinstance(engine, str) else engine
        self.hasher = hasher or PasswordHasher()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user does not exist, so both paths take the same time."""
        return self.hasher.hash(secrets.token_hex(16))

    def create_tables(self) -> None:
        """Create `web_users` and `web_tokens`, and add the columns added since."""

        def create(session: Session) -> None:
            connection = session.connection()
            WebBase.metadata.create_all(connection, tables=tables_named("web_users", "web_tokens"))
            for table, columns in WEB_ADDED_COLUMNS.items():
                present = {c["name"] for c in inspect(connection).get_columns(table)}
                for name, ddl in columns.items():
                    if name not in present:
                        connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")

        run(self.engine, create, what="accounts")

    # --- users --------------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, role: Role | str, *, full_name: str | None = None
    ) -> User:
        name = _check_username(username)
        the_role = _check_role(role)
        _check_password(password)
        row = UserRow(
            username=name,
            full_name=nfc(full_name.strip()) if full_name and full_name.strip() else None,
            role=the_role.value,
            password_hash=self.hasher.hash(password),
            active=True,
            session_epoch=0,
            created_at=self._clock(),
        )

        def add(session: Session) -> User:
            session.add(row)
            session.flush()
            return _user(row)

        try:
            return run(self.engine, add, what="accounts")
        except IntegrityError:
            raise BadArgumentError(
                f"tài khoản {name} đã có",
                hint="chọn tên khác, hoặc đặt lại mật khẩu của tài khoản đó",
            ) from None

    def set_password(self, username: str, password: str) -> User:
        _check_password(password)
        digest = self.hasher.hash(password)

        def change(session: Session) -> User:
            row = self._user_row(session, username)
            row.password_hash = digest
            row.session_epoch += 1
            return _user(row)

        return run(self.engine, change, what="accounts")

    def set_active(self, username: str, active: bool) -> User:
        def change(session: Session) -> User:
            row = self._user_row(session, username)
            if row.active != active:
                row.active = active
                row.session_epoch += 1
            return _user(row)

        return run(self.engine, change, what="accounts")

    def set_role(self, username: str, role: Role | str) -> User:
        """Change the account's role; its open sessions end (they carried the old role)."""
        the_role = _check_role(role)

        def change(session: Session) -> User:
            row = self._user_row(session, username)
            if row.role != the_role.value:
                row.role = the_role.value
                row.session_epoch += 1
            return _user(row)

        return run(self.engine, change, what="accounts")

    def end_sessions(self, user_id: int) -> None:
        """Sign the account out everywhere: every session cookie issued so far stops working."""

        def bump(session: Session) -> None:
            row = session.get(UserRow, user_id)
            if row is not None:
                row.session_epoch += 1

        run(self.engine, bump, what="accounts")

    def users(self) -> list[User]:
        return run(
            self.engine,
            lambda s: [_user(r) for r in s.execute(select(UserRow).order_by(UserRow.username))
                       .scalars()],
            what="accounts",
        )  # fmt: skip

    def user_by_id(self, user_id: int) -> User | None:
        def read(session: Session) -> User | None:
            row = session.get(UserRow, user_id)
            return None if row is None else _user(row)

        return run(self.engine, read, what="accounts")

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this name and password, or None (no hint which part was wrong)."""
        name = username.strip().lower()

        def check(session: Session) -> User | None:
            row = session.execute(
                select(UserRow).where(UserRow.username == name)
            ).scalar_one_or_none()
            stored = row.password_hash if row is not None else self._dummy_hash
            try:
                self.hasher.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if row is None or not row.active:
                return None
            if self.hasher.check_needs_rehash(row.password_hash):
                row.password_hash = self.hasher.hash(password)
            row.last_login_at = self._clock()
            return _user(row)

        return run(self.engine, check, what="accounts")

    def _user_row(self, session: Session, username: str) -> UserRow:
        row = session.execute(
            select(UserRow).where(UserRow.username == username.strip().lower())
        ).scalar_one_or_none()
        if row is None:
            raise BadArgumentError(
                f"không có tài khoản {username}", hint="danh sách tài khoản: `motcua users list`"
            )
        return row

    # --- API tokens ---------------------------------------------------------------------------

    def add_token(
        self,
        name: str,
        scopes: Sequence[str] = LEGACY_SCOPES,
        *,
        expires_days: float | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token with `scopes` (intake, read, results), valid `expires_days` days
        (None: until revoked); the secret comes back once and is never stored."""
        if not _TOKEN_NAME_RE.match(name):
            raise BadArgumentError(
                f"“{name}” không dùng được làm tên khóa truy cập",
                hint="chữ cái không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới; ví dụ ioffice",
            )
        chosen = check_scopes(scopes)
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise BadArgumentError(
                f"thời hạn {expires_days:g} ngày không hợp lệ", hint="từ 1 đến 3650 ngày"
            )
        now = self._clock()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            created_at=now,
            scopes=",".join(chosen),
            expires_at=None if expires_days is None else now + dt.timedelta(days=expires_days),
        )

        def add(session: Session) -> ApiToken:
            session.add(row)
            session.flush()
            return _token(row)

        try:
            return run(self.engine, add, what="accounts"), secret
        except IntegrityError:
            raise BadArgumentError(
                f"khóa truy cập {name} đã có", hint="thu hồi khóa đó hoặc chọn tên khác"
            ) from None

    def tokens(self) -> list[ApiToken]:
        return run(
            self.engine,
            lambda s: [_token(r) for r in s.execute(select(TokenRow).order_by(TokenRow.name))
                       .scalars()],
            what="accounts",
        )  # fmt: skip

    def revoke_token(self, name: str) -> ApiToken:
        def revoke(session: Session) -> ApiToken:
            row = session.execute(
                select(TokenRow).where(TokenRow.name == name)
            ).scalar_one_or_none()
            if row is None:
                raise BadArgumentError(f"no token {name}", hint="`motcua tokens list` shows them")
            if row.revoked_at is None:
                row.revoked_at = self._clock()
            return _token(row)

        return run(self.engine, revoke, what="accounts")

    def token_by_secret(self, secret: str) -> ApiToken | None:
        """The active, unexpired token with this secret (and note its use), or None."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        digest = hash_token(secret)

        def find(session: Session) -> ApiToken | None:
            row = session.execute(
                select(TokenRow).where(TokenRow.token_hash == digest)
            ).scalar_one_or_none()
            now = self._clock()
            if row is None or row.revoked_at is not None:
                return None
            if row.expires_at is not None and now >= row.expires_at:
                return None
            if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
                row.last_used_at = now
            return _token(row)

        return run(self.engine, find, what="accounts")


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """Known scopes in their declared order, without repeats; `BadArgumentError` otherwise."""
    wanted = {s.strip().lower() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown or not wanted:
        raise BadArgumentError(
            f"không có phạm vi “{unknown[0]}”"
            if unknown
            else "khóa truy cập cần ít nhất một phạm vi",
            hint="--scope nhận một hoặc nhiều trong: " + ",".join(SCOPES),
        )
    return tuple(s for s in SCOPES if s in wanted)


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME_RE.match(name):
        raise BadArgumentError(
            f"“{username}” không dùng được làm tên đăng nhập",
            hint="2–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch ngang, gạch dưới",
        )
    return name


def _check_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise BadArgumentError(
            f"“{role}” không phải là vai trò", hint="một trong: " + ", ".join(r.value for r in Role)
        ) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadArgumentError(
            f"mật khẩu ngắn hơn {MIN_PASSWORD_LENGTH} ký tự", hint="chọn mật khẩu dài hơn"
        )


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        active=row.active,
        session_epoch=row.session_epoch,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def _token(row: TokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scopes=tuple(row.scopes.split(",")) if row.scopes else LEGACY_SCOPES,
        expires_at=row.expires_at,
    )
