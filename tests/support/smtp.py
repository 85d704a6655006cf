"""Harness for exercising real delivery: an SMTP sink on a loopback port and a batch of due
booking confirmations. Shared by the integration tests and bench/messaging_throughput.py.

Imports aiosmtpd (a dev requirement) only when a server is started.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class SmtpSink:
    """An aiosmtpd handler that keeps the Message-ID of everything it accepts."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        # The raw messages, for tests that read a link from one (browser tests).
        self.messages: list[bytes] = []
        self.lock = threading.Lock()
        self.last = 0.0  # time.monotonic() of the latest accepted message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(found.group(1).decode() if found else "<none>")
            self.messages.append(envelope.content)
            self.last = time.monotonic()
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.ids)

    def duplicates(self) -> dict[str, int]:
        with self.lock:
            return {k: n for k, n in collections.Counter(self.ids).items() if n > 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def smtp_server(sink: SmtpSink) -> Iterator[int]:
    """Run an SMTP server for `sink` on a free loopback port; yields the port."""
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every SMTP command at INFO; in a busy process that slows its replies.
    mail_log = logging.getLogger("mail.log")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
        mail_log.setLevel(level)


def seed_due_confirmations(
    n: int, *, room: Any, session_type: Any, practitioner: Any, name: str = "P"
) -> list[int]:
    """n booked sessions, two hours apart from the day after tomorrow, each with a booking
    confirmation due now (the heaviest kind: three templates and an .ics); their outbox ids."""
    from django.utils import timezone

    from patients.models import Patient
    from treatments.messaging.models import Kind, OutboxMessage
    from treatments.models import Session

    now = timezone.now()
    patients = Patient.objects.bulk_create(
        Patient(
            first_name=f"{name}{i}",
            last_name="Load",
            date_of_birth=dt.date(1980, 1, 1),
            email=f"load{i}@example.test",
            email_reminders_consent=True,
        )
        for i in range(n)
    )
    first = (now + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    sessions = Session.objects.bulk_create(
        Session(
            patient=p,
            session_type=session_type,
            practitioner=practitioner,
            room=room,
            starts_at=first + dt.timedelta(hours=2 * i),
            ends_at=first + dt.timedelta(hours=2 * i, minutes=45),
            blocked_until=first + dt.timedelta(hours=2 * i, minutes=60),
        )
        for i, p in enumerate(patients)
    )
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            kind=Kind.CONFIRMATION,
            patient=s.patient,
            session=s,
            due_at=now - dt.timedelta(minutes=1),
            expires_at=s.starts_at,
        )
        for s in sessions
    )
    return [r.pk for r in rows]
