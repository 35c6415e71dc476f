"""Roles and the declared role matrix: which role may do what.

Every route names one `Permission` through the single dependency `motcua.web.auth.require`;
this table is the only place that says who holds it. API tokens of the e-office system act as
the pseudo-role `eoffice`, which exists only for tokens and only under `/api/`, narrowed by the
token's scopes (`SCOPE_PERMISSIONS`: `intake`, `read`, `results`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"
    officer = "officer"  # chuyên viên xử lý: the officer a dossier is assigned to
    leader = "leader"
    archivist = "archivist"
    admin = "admin"

    @property
    def label_vi(self) -> str:
        return _ROLE_VI[self]


_ROLE_VI = {
    Role.clerk: "Cán bộ tiếp nhận",
    Role.officer: "Chuyên viên xử lý",
    Role.leader: "Lãnh đạo",
    Role.archivist: "Văn thư, lưu trữ",
    Role.admin: "Quản trị hệ thống",
}

EOFFICE = "eoffice"  # the role of every API token


class Permission(StrEnum):
    self_read = "self.read"  # who am I
    dossiers_read = "dossiers.read"  # list, filter and show dossiers
    dossiers_update = "dossiers.update"  # request a supplement, record the return
    dossiers_intake = "dossiers.intake"  # take a dossier in, correct its fields, accept it
    receipts_read = "receipts.read"  # print the receipt (Mẫu 01) and supplement request (Mẫu 02)
    reports_read = "reports.read"  # the on-time report
    archive_read = "archive.read"  # search the archive, read a record, download its files
    archive_verify = "archive.verify"  # run a record's fixity audit
    audit_read = "audit.read"  # the audit log and its verification
    accounts_manage = "accounts.manage"  # users and API tokens
    results_draft = "results.draft"  # draft a dossier's result for the leader to sign
    # The leader's signing queue, previews and signing (server-side key or own device). Only the
    # competent person signs (Decree 30/2020): an administrator runs the system, never signs.
    results_sign = "results.sign"
    results_read = "results.read"  # the signed result PDF (the e-office system fetches it)
    dossiers_note = "dossiers.note"  # write a note on a dossier (a call, a reason for delay)
    dossiers_assign = "dossiers.assign"  # assign a dossier to an officer (chuyên viên xử lý)


_C, _L, _A, _M = Role.clerk.value, Role.leader.value, Role.archivist.value, Role.admin.value
_O = Role.officer.value

ROLE_MATRIX: Mapping[Permission, frozenset[str]] = {
    Permission.self_read: frozenset({_C, _O, _L, _A, _M, EOFFICE}),
    Permission.dossiers_read: frozenset({_C, _O, _L, _A, _M, EOFFICE}),
    # the officer asks for a supplement while processing; the desk records the hand-over
    Permission.dossiers_update: frozenset({_C, _O, _M}),
    # tokens: with the `intake` scope (an online submission pushed in, then accepted)
    Permission.dossiers_intake: frozenset({_C, _M, EOFFICE}),
    Permission.receipts_read: frozenset({_C, _M}),
    Permission.reports_read: frozenset({_L, _M, EOFFICE}),
    Permission.archive_read: frozenset({_A, _M, EOFFICE}),
    Permission.archive_verify: frozenset({_A, _M}),
    Permission.audit_read: frozenset({_A, _M}),
    Permission.accounts_manage: frozenset({_M}),
    Permission.results_draft: frozenset({_C, _O, _M}),
    Permission.results_sign: frozenset({_L}),
    Permission.results_read: frozenset({_C, _O, _L, _M, EOFFICE}),
    Permission.dossiers_note: frozenset({_C, _O, _L, _M}),
    # the desk assigns when it forwards the dossier, the leader reassigns
    Permission.dossiers_assign: frozenset({_C, _L, _M}),
}

ALL_ROLES: tuple[str, ...] = (*[r.value for r in Role], EOFFICE)

# What each scope of an API token lets it do, within what the `eoffice` role holds: a token
# holds the union of its scopes. Tokens made before scopes existed read and fetch results.
SCOPE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "intake": frozenset({Permission.self_read, Permission.dossiers_intake}),
    "read": frozenset({Permission.self_read, Permission.dossiers_read, Permission.reports_read,
                       Permission.archive_read}),
    "results": frozenset({Permission.self_read, Permission.results_read}),
}  # fmt: skip
SCOPES: tuple[str, ...] = tuple(SCOPE_PERMISSIONS)
LEGACY_SCOPES: tuple[str, ...] = ("read", "results")


def scope_allows(scopes: Iterable[str], permission: Permission) -> bool:
    return any(permission in SCOPE_PERMISSIONS.get(s, frozenset()) for s in scopes)


def allowed(role: str, permission: Permission) -> bool:
    return role in ROLE_MATRIX[permission]
