"""A patient reports a severe reaction through their aftercare link; the practitioner on duty
gets the email at a real SMTP server within one dispatcher interval, acknowledges it on the
clinical dashboard, and the dashboard clears."""

from __future__ import annotations

import datetime as dt
import email
import threading
import time
from email.policy import default as default_policy
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from tests.support.smtp import SmtpSink, smtp_server
from treatments.clinical.models import Reaction
from treatments.messaging import conf
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.messaging.tokens import link_url
from treatments.models import Session
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]

INTERVAL = 2  # seconds between dispatcher runs here (production: 60)
# Composing and handing one email to a loopback SMTP server, on a loaded 2-core machine.
SEND_ALLOWANCE = 1.5


class RecordingSink(SmtpSink):
    """Also keeps who each message went to, its subject and its text, and when it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[float, list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append((time.monotonic(), list(envelope.rcpt_tos), message))
        return await super().handle_DATA(server, session, envelope)


def _dispatcher(stop: threading.Event) -> None:
    """What `run_clinic` does without Redis: the dispatcher, in-process, every interval."""
    try:
        while not stop.is_set():
            dispatch_in_process()
            stop.wait(conf.dispatch_interval())
    finally:
        connection.close()


def test_a_patient_s_severe_report_reaches_the_practitioner_by_email_and_clears_once_acknowledged(
    transactional_db,
    live_server,
    page,
    screenshots,
    settings,
    clinic,
    practitioner_profile,
    room,
    face,
):
    sink = RecordingSink()
    with smtp_server(sink) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.MESSAGING_SITE_URL = live_server.url
        settings.MESSAGING_DISPATCH_INTERVAL = INTERVAL
        zone = clinic.zone
        now = timezone.now()
        session = SessionFactory(
            patient=PatientFactory(first_name="Jane", last_name="Austen"),
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=now - dt.timedelta(days=1),
            status=Session.Status.COMPLETED,
        )
        reaction_link = link_url(
            action="reaction",
            payload={"s": session.pk, "p": session.patient_id},
            expires_at=now + dt.timedelta(days=14),
        )
        stop = threading.Event()
        dispatcher = threading.Thread(target=_dispatcher, args=(stop,), daemon=True)
        dispatcher.start()
        try:
            # The patient, not signed in, reports from the aftercare email's link.
            page.goto(reaction_link)
            page.get_by_label("What have you noticed?").select_option("allergic")
            page.get_by_label("Severe: very painful").check()
            onset = timezone.localtime(now, zone) - dt.timedelta(hours=2)
            page.get_by_label("When did it start?").fill(onset.strftime("%Y-%m-%dT%H:%M"))
            page.get_by_label("Tell us more").fill("My lips are swelling")
            page.get_by_role("button", name="Send to the clinic").click()
            page.get_by_text("Thank you for telling us").wait_for()
            reported = time.monotonic()

            deadline = reported + INTERVAL + SEND_ALLOWANCE
            while sink.count() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            dispatcher.join(timeout=10)

    [(arrived, recipients, message)] = sink.received
    assert arrived - reported <= INTERVAL + SEND_ALLOWANCE
    assert recipients == [practitioner_profile.user.email]
    subject = message["Subject"]
    assert "severe reaction" in subject.lower()
    assert "Jane" not in subject and "Austen" not in subject and "allerg" not in subject.lower()
    text = message.get_body(preferencelist=("plain",)).get_content()
    reaction = Reaction.objects.get()
    assert "Jane Austen" in text
    assert f"{live_server.url}/clinical/reactions/{reaction.pk}/" in text
    assert "lips" not in text
    row = OutboxMessage.objects.get(kind=Kind.SEVERE_REACTION_ALERT)
    assert (row.status, row.sent_to) == (Status.SENT, practitioner_profile.user.email)

    # The practitioner signs in, sees it on the dashboard, and acknowledges it.
    log_in(page, practitioner_profile.user.username)
    page.goto("/clinical/dashboard/")
    today = page.locator(".card", has_text="Severe reactions reported today")
    assert "Jane Austen" in today.inner_text()
    page.screenshot(path=screenshots / "dashboard-severe-reaction.png", full_page=True)
    today.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Acknowledged: it is off the dashboard's alerts.").wait_for()
    today = page.locator(".card", has_text="Severe reactions reported today")
    assert "None today." in today.inner_text()
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    reaction.refresh_from_db()
    assert reaction.acknowledged_by == practitioner_profile.user
