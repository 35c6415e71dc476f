"""The one place where settings become the office's objects.

`build_office(settings)` returns the register (on the catalogue database, with the office's own
calendar from `<home>/calendar.yaml`), the procedure catalogue, the printed office details, the
audit journal, the webhook target and, on first use, the archive and the signing set-up. The web
server, the CLI, the hot folder and Prefect workers all call it, so two doors can never disagree
about the calendar, the archive or the signing set-up.

`Office.journal_event(...)` is how every dossier operation ends: one audit-journal entry and one
webhook event, stored in the outbox and delivered in the background (`motcua.web.outbox`: a down
e-office system never holds up a clerk, and gets every event, in order, once it is back).
"""

from __future__ import annotations

import atexit
import functools
import getpass
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from dossiers.calendar import WorkingCalendar, load_overrides
from dossiers.forms.pdf import Office as PrintedOffice
from dossiers.notes import Notes
from dossiers.procedures import Catalogue, load_catalogue
from dossiers.public import PublicLinks
from dossiers.register import DossierRegister, create_register_engine
from dossiers.satisfaction import Ratings
from motcua.errors import MotcuaError
from motcua.settings import Settings

if TYPE_CHECKING:
    from dossiers.notify import NoticeQueue
    from flows.signing_keys import SigningSetup
    from motcua.web.audit import AuditLog
    from motcua.web.outbox import Outbox
    from motcua.web.webhooks import WebhookTarget
    from storage.archive import Archive

log = logging.getLogger("motcua.office")


def cli_actor() -> str:
    """The actor of an operation typed at this machine's terminal: `cli:<os user>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"


@dataclass
class Office:
    """One office's settings and the objects built from them (see `build_office`)."""

    settings: Settings
    register: DossierRegister
    catalogue: Catalogue
    printed: PrintedOffice
    journal: AuditLog | None = None
    webhook: WebhookTarget | None = None
    outbox: Outbox | None = None
    notices: NoticeQueue | None = None
    _archive: Archive | None = None
    _signing: SigningSetup | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        return self.register.engine

    @functools.cached_property
    def links(self) -> PublicLinks:
        """The dossiers' public status links (the receipt's QR), on the register's database."""
        return PublicLinks(self.engine)

    @functools.cached_property
    def ratings(self) -> Ratings:
        """The citizens' satisfaction ratings, one per dossier."""
        return Ratings(self.engine)

    @functools.cached_property
    def notes(self) -> Notes:
        """The notes written on dossiers (calls, reasons for delay)."""
        return Notes(self.engine)

    @property
    def calendar(self) -> WorkingCalendar:
        return self.register.calendar

    @property
    def archive(self) -> Archive:
        """The archive; building it starts the embedded object store when that is configured."""
        if self._archive is None:
            from motcua.services import archive

            self._archive = archive(self.settings)
        return self._archive

    @property
    def signing(self) -> SigningSetup:
        """The signing set-up (keys, certificates, TSA) from the settings, read on first use."""
        if self._signing is None:
            from flows.signing_keys import SigningSetup

            self._signing = SigningSetup.from_settings(self.settings)
        return self._signing

    def dossier_dir(self, code: str) -> Path:
        """Where the office's copies of a dossier's forms and results are written."""
        path = self.settings.home / "dossiers" / code
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def cores(self) -> int:
        return self.settings.ocr_jobs or max(1, len(os.sched_getaffinity(0)))

    def journal_event(
        self,
        *,
        actor: str,
        action: str,
        target_id: str,
        details: Mapping[str, Any] | None = None,
        target_kind: str = "dossier",
        event: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the audit entry, then announce `event` to the e-office system (if any)."""
        if self.journal is not None:
            self.journal.append(
                actor=actor,
                action=action,
                target_kind=target_kind,
                target_id=target_id,
                details=dict(details or {}),
            )
        if event is not None:
            self.emit(event, data or {})
            if target_kind == "dossier":
                self.notify(event, target_id)

    def notify(self, event: str, code: str) -> None:
        """Queue the citizen's notice of `event` (if it is one), when they left a phone or
        e-mail and consented at intake; sent in the background. Never raises: the operation
        has happened, and a notice not stored is logged (code and event only)."""
        from dossiers.notify import EVENT_KINDS, compose

        kind = EVENT_KINDS.get(event)
        if self.notices is None or kind is None:
            return
        try:
            dossier = self.register.get(code)
            if not dossier.contact.reachable:
                return
            from flows.public import status_url

            try:
                procedure = self.catalogue.get(dossier.procedure_key)
                name = procedure.name
                labels = [procedure.label_of(k) for k in dossier.missing_components]
            except MotcuaError:
                name, labels = dossier.procedure_key, list(dossier.missing_components)
            message = compose(kind, dossier, office_name=self.printed.name, procedure_name=name,
                              missing_labels=labels, status_url=status_url(self, code))  # fmt: skip
            targets = {"email": dossier.contact.email, "http": dossier.contact.phone}
            for channel in self.notices.adapters:
                recipient = targets.get(channel)
                if recipient:
                    self.notices.add(code, message.kind, channel, recipient, message.subject,
                                     message.body)  # fmt: skip
        except MotcuaError as exc:
            log.warning("notice of %s for %s not stored: %s", event, code, exc.message)
            return
        self.notices.kick()
        _wait_at_exit(self.notices, self.settings.webhook_flush_seconds)

    def emit(self, event: str, data: Mapping[str, Any]) -> None:
        """Store a webhook event in the outbox and deliver it in the background.

        A failure to store it is logged, never raised: the operation itself has happened. Before
        the process ends it waits up to `MOTCUA_WEBHOOK_FLUSH_SECONDS` for the delivery; what is
        still unsent stays in the outbox for the next delivery by any process.
        """
        if self.outbox is None:
            return
        try:
            self.outbox.add(event, data)
        except MotcuaError as exc:
            log.warning("webhook %s not stored: %s", event, exc.message)
            return
        self.outbox.kick()
        _flush_at_exit(self.outbox, self.settings.webhook_flush_seconds)


_FLUSHING: set[int] = set()


def _flush_at_exit(outbox: Outbox, timeout: float) -> None:
    if id(outbox) not in _FLUSHING:
        _FLUSHING.add(id(outbox))
        atexit.register(outbox.close, timeout)


_WAITING: set[int] = set()


def _wait_at_exit(queue: NoticeQueue, timeout: float) -> None:
    if id(queue) not in _WAITING:
        _WAITING.add(id(queue))
        atexit.register(queue.wait_idle, timeout)


def notice_queue(settings: Settings, engine: Engine) -> NoticeQueue | None:
    """The notices' queue with the adapters the settings configure; None when there is none."""
    from dossiers.notify import Adapter, HttpAdapter, NoticeQueue, SmtpAdapter

    adapters: dict[str, Adapter] = {}
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        adapters["email"] = SmtpAdapter(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender,
            settings.smtp_sender_name, settings.smtp_username, password, settings.smtp_security,
        )  # fmt: skip
    if settings.notice_http_url:
        secret = settings.notice_http_token
        token = secret.get_secret_value() if secret else None
        template = settings.notice_http_template
        adapters["http"] = (HttpAdapter(settings.notice_http_url, template, token) if template
                            else HttpAdapter(settings.notice_http_url, token=token))  # fmt: skip
    if not adapters:
        return None
    return NoticeQueue(engine, adapters, retry_max=settings.notice_retry_max_seconds,
                       max_rounds=settings.notice_max_rounds)  # fmt: skip


def office_calendar(settings: Settings) -> WorkingCalendar:
    """The working calendar with the office's own days off (`<home>/calendar.yaml`)."""
    overrides_file = settings.home / "calendar.yaml"
    overrides = load_overrides(overrides_file) if overrides_file.is_file() else None
    return WorkingCalendar.from_overrides(overrides)


def printed_office(settings: Settings) -> PrintedOffice:
    return PrintedOffice(
        name=settings.office_name,
        parent=settings.office_parent,
        place=settings.office_place,
        unit_code=settings.unit_code,
    )


def build_office(settings: Settings, *, engine: Engine | None = None) -> Office:
    """The office's objects from `settings`; tables that are missing are created."""
    from motcua.web.audit import AuditLog
    from motcua.web.outbox import Outbox
    from motcua.web.webhooks import target_from_settings

    settings.home.mkdir(parents=True, exist_ok=True)
    engine = engine or create_register_engine(settings.effective_catalog_url)
    register = DossierRegister(
        engine, unit_code=settings.unit_code, calendar=office_calendar(settings)
    )
    register.create_tables()
    journal = AuditLog(engine)
    journal.create_tables()
    webhook = target_from_settings(settings)
    outbox = None
    if webhook is not None:
        outbox = Outbox(engine, webhook, retry_max=settings.webhook_retry_max_seconds)
        outbox.create_tables()
    return Office(
        settings=settings,
        register=register,
        catalogue=load_catalogue(home=settings.home),
        printed=printed_office(settings),
        journal=journal,
        webhook=webhook,
        outbox=outbox,
        notices=notice_queue(settings, engine),
    )
