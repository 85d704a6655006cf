"""A patient cancels from the confirmation email; the front desk sees the slot free again, marked
"cancelled by patient", and a notice on its Today page that it marks seen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.models import Session
from treatments.services.booking import session_book

pytestmark = [pytest.mark.browser]


def test_the_confirmation_emails_cancel_link_frees_the_slot_in_the_front_desk_calendar(
    transactional_db,
    live_server,
    page,
    screenshots,
    settings,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    settings.MESSAGING_SITE_URL = live_server.url
    zone = clinic.zone
    day = timezone.localdate(timezone.now(), zone) + dt.timedelta(days=14)
    session = session_book(
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=dt.datetime.combine(day, dt.time(10), tzinfo=zone),
    )
    dispatch_in_process()
    [email] = mail.outbox
    cancel_url = re.search(rf"{re.escape(live_server.url)}/m/cancel/\S+/", email.body).group(0)
    # The calendar's session type (the first active one) and the room picked are in the name.
    slot_name = re.compile(
        rf"^Book .+ at 10:00 on {day:%a} {day.day} {day:%b} with Ada Doctor in Room 1$"
    )

    # The patient, not logged in, follows the link from the email.
    page.goto(cancel_url)
    assert "Cancel your appointment" in page.locator("h1").inner_text()
    assert f"{day:%A} {day.day} {day:%B %Y}, 10:00" in page.locator("dl").inner_text()
    page.screenshot(path=screenshots / "cancel-link.png", full_page=True)
    page.get_by_role("button", name="Cancel this appointment").click()
    page.get_by_text("Your appointment is cancelled").wait_for()
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED

    # Following the same link again changes nothing and says why.
    page.goto(cancel_url)
    assert "already been used" in page.content()

    # The front desk's calendar offers the slot again.
    log_in(page, front_desk_user.username)
    page.goto(f"/calendar/?view=day&date={day.isoformat()}")
    page.wait_for_selector("#calendar")
    page.screenshot(path=screenshots / "calendar-after-patient-cancel.png", full_page=True)
    assert page.get_by_role("link", name=slot_name).count() == 1
    mark = page.locator("a.cal-freed-patient")
    assert re.fullmatch(
        r"10:00 Jane Austen cancelled by patient \d+ \w{3} \d\d:\d\d", mark.inner_text()
    )

    # The desk's home tells them, until someone marks it seen.
    page.goto("/today/")
    notice = page.locator("#patient-cancellations li").first
    assert f"Jane Austen cancelled {day:%A} {day.day} {day:%b} 10:00 by email link" in (
        notice.inner_text()
    )
    page.screenshot(path=screenshots / "today-patient-cancelled.png", full_page=True)
    page.get_by_role("button", name="Mark Jane Austen's cancellation as seen").click()
    page.get_by_text("Jane Austen's cancellation is marked seen.").wait_for()
    assert page.locator("#patient-cancellations").count() == 0
    cancellation = OutboxMessage.objects.get(session=session, kind=Kind.CANCELLATION)
    assert cancellation.status == Status.PENDING
