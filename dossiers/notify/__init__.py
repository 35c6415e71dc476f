"""Notices to citizens: what a message says, how it goes (SMTP, an SMS/Zalo HTTP gateway), and a
durable queue in the register's database so a failed send is retried and never undoes or holds
up the dossier operation that caused it.

A library: imports `dossiers` and `motcua.errors`/`motcua.types`, never `flows/`. The office
(`motcua.office.Office.notify`) decides when to notify: only for a dossier whose citizen left a
phone or e-mail *and* ticked consent at intake.
"""

from dossiers.notify.adapters import Adapter, HttpAdapter, SendError, SmtpAdapter
from dossiers.notify.messages import EVENT_KINDS, Message, compose
from dossiers.notify.queue import NoticeQueue

__all__ = [
    "EVENT_KINDS",
    "Adapter",
    "HttpAdapter",
    "Message",
    "NoticeQueue",
    "SendError",
    "SmtpAdapter",
    "compose",
]
