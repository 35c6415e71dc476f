"""What the routes share: settings, one database engine, the register, accounts, audit log."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from dossiers.forms.pdf import Office
from dossiers.procedures import Catalogue
from dossiers.register import DossierRegister
from motcua.errors import MotcuaError
from motcua.office import Office as CoreOffice
from motcua.office import build_office
from motcua.settings import Settings
from motcua.web.accounts import Accounts, SignInThrottle
from motcua.web.audit import AuditLog
from motcua.web.db import open_engine
from motcua.web.jobs import JobRunner
from motcua.web.journal_labels import JournalLabels
from motcua.web.throttle import RateLimit
from motcua.web.webhooks import WebhookTarget

if TYPE_CHECKING:
    from storage.archive import Archive

log = logging.getLogger("motcua.web")


@dataclass
class Services:
    """The web server's office (built by `motcua.office.build_office`, as every door's is) and
    what only the web has: accounts, background jobs, the sign-in throttle."""

    settings: Settings
    core: CoreOffice
    accounts: Accounts
    jobs: JobRunner
    sign_in_throttle: SignInThrottle = field(default_factory=SignInThrottle)
    # The public status page, per client address: every lookup, and lookups of unknown tokens
    # (someone trying tokens is stopped long before 80 random bits matter).
    lookup_limit: RateLimit = field(default_factory=lambda: RateLimit(30, 60.0))
    lookup_miss_limit: RateLimit = field(default_factory=lambda: RateLimit(10, 15 * 60.0))

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def register(self) -> DossierRegister:
        return self.core.register

    @property
    def catalogue(self) -> Catalogue:
        return self.core.catalogue

    @property
    def audit(self) -> AuditLog:
        assert self.core.journal is not None
        return self.core.journal

    @property
    def webhook(self) -> WebhookTarget | None:
        return self.core.webhook

    @property
    def archive(self) -> Archive:
        """The write-once archive, connected on first use (starts the embedded S3 if needed)."""
        return self.core.archive

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Connect to the catalogue database and create the tables that are missing."""
        if settings.catalog_url is None:
            settings.home.mkdir(parents=True, exist_ok=True)
        core = build_office(settings, engine=open_engine(settings.effective_catalog_url))
        accounts = Accounts(core.engine)
        accounts.create_tables()
        jobs = JobRunner(core.engine, workers=settings.web_job_workers)
        jobs.create_tables()
        return cls(settings, core, accounts, jobs)

    def flows_office(self) -> CoreOffice:
        """The office flows run on in this server (run flows in `office_in_use(...)`), with
        Prefect configured first, once per process, as the CLI does."""
        configure_flows(self.settings)
        return self.core

    @property
    def office(self) -> Office:
        """The office details printed on forms."""
        return self.core.printed

    @property
    def upload_max_bytes(self) -> int:
        return int(self.settings.upload_max_mb * 1024 * 1024)

    def procedure_name(self, key: str) -> str:
        try:
            return self.catalogue.get(key).name
        except MotcuaError:
            return key

    def component_label(self, procedure_key: str, kind: str) -> str:
        """The Vietnamese label of a component of a procedure ("Giấy tờ khác" if unlisted)."""
        try:
            return self.catalogue.get(procedure_key).label_of(kind)
        except MotcuaError:
            return kind

    def field_label(self, kind: str, key: str) -> str:
        """The Vietnamese label of an extracted field, from the extractor's form templates."""
        return _field_labels().get((kind, key), key)

    def journal_labels(self) -> JournalLabels:
        """How journal entries read on a page (accounts read once, when first named)."""

        @functools.cache
        def names() -> dict[str, str]:
            return {u.username: u.display_name for u in self.accounts.users()}

        def field(key: str) -> str:
            labels = {k: v for (_, k), v in _field_labels().items()}
            return labels.get(key, key)

        return JournalLabels(
            person=lambda login: names().get(login), procedure=self.procedure_name, field=field
        )


# Sections of a declaration, as a clerk names them (the templates name them with slugs).
_SECTION_VI = {"nguoi_yeu_cau": "người yêu cầu", "khai_sinh": "người được khai sinh",
               "me": "mẹ", "cha": "cha", "cam_doan": "cam đoan"}  # fmt: skip


@functools.cache
def _field_labels() -> dict[tuple[str, str], str]:
    """(document kind, field key) → the first label of the field in its template."""
    try:
        from extractors.fields.templates import templates

        found = templates()
    except Exception as exc:  # labels are a nicety: never let them break a page
        log.warning("field labels unavailable: %s", type(exc).__name__)
        return {}
    labels: dict[tuple[str, str], str] = {}
    for kind, template in found.items():
        for spec in template.fields:
            if spec.title:
                label = spec.title
            elif spec.labels:
                label = spec.labels[0].split(" / ")[0].strip(" :")
            else:
                continue
            if (
                spec.section
                and spec.section in _SECTION_VI
                and _SECTION_VI[spec.section] not in label
            ):
                label = f"{label} ({_SECTION_VI[spec.section]})"
            labels[(kind, spec.key)] = label
    return labels


def configure_flows(settings: Settings) -> None:
    """Prefect reads its settings when first imported: configure it before, once per process."""
    _configure_prefect(settings.home, settings.prefect_api_url)


@functools.cache
def _configure_prefect(home: Path, api_url: str | None) -> None:
    from flows.runtime import configure_prefect

    configure_prefect(home, api_url)
