"""The waiting list in a browser: the desk cancels a session, the waiting patient opens the offer
from the email (delivered to a local SMTP server) on a phone and takes the slot; the desk adds a
patient to the list. axe-core checks every page (tests/browser/conftest.py)."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

import pytest
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import checked_context, log_in
from tests.support.smtp import SmtpSink, smtp_server
from treatments.clinic_time import local_to_utc
from treatments.messaging.dispatch import dispatch_in_process
from treatments.models import Session
from treatments.services.booking import session_book
from treatments.waitlist.models import Entry, Offer
from treatments.waitlist.services import Wish, entry_add

pytestmark = [pytest.mark.browser]


def _text_bodies(sink: SmtpSink) -> list[tuple[str, str]]:
    """(recipient, plain-text body) of every message the SMTP server accepted."""
    found = []
    for raw in sink.messages:
        message = email.message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        found.append((str(message["To"]), body.get_content() if body else ""))
    return found


def test_a_cancelled_slot_is_taken_from_the_offer_email_on_a_phone(
    transactional_db,
    live_server,
    browser,
    screenshots,
    settings,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    settings.MESSAGING_SITE_URL = live_server.url
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=3)
    slot = local_to_utc(dt.datetime.combine(day, dt.time(10)), clinic.zone)
    leaving = session_book(
        patient=PatientFactory(first_name="Carl", last_name="Cancels"),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=slot,
    )
    waiting = PatientFactory(first_name="Wanda", last_name="Waiting", email="wanda@example.com")
    entry_add(
        patient=waiting,
        wish=Wish(
            session_type=face,
            practitioner=None,
            earliest=day - dt.timedelta(days=1),
            latest=day + dt.timedelta(days=7),
        ),
    )

    desk = checked_context(browser, live_server.url)
    desk_page = desk.new_page()
    log_in(desk_page, front_desk_user.username)
    desk_page.goto(f"/sessions/{leaving.pk}/cancel/")
    desk_page.get_by_label("Reason").fill("Patient unwell")
    desk_page.get_by_role("button", name="Cancel the session").click()
    desk_page.get_by_text("Cancelled Carl Cancels's session").wait_for()
    offer = Offer.objects.get()
    assert (offer.entry.patient_id, offer.starts_at) == (waiting.pk, slot)

    sink = SmtpSink()
    with smtp_server(sink) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        dispatch_in_process()
    offers = [body for to, body in _text_bodies(sink) if "wanda@example.com" in to]
    assert len(offers) == 1
    link = re.search(rf"{re.escape(live_server.url)}/waitlist/offer/\S+/", offers[0]).group(0)

    phone = checked_context(
        browser, live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    patient_page = phone.new_page()
    patient_page.goto(link)
    patient_page.get_by_text("A time is free for you").wait_for()
    assert "10:00" in patient_page.content()
    patient_page.screenshot(path=screenshots / "waitlist-offer-phone.png", full_page=True)
    patient_page.get_by_role("button", name="Book this time").click()
    patient_page.get_by_text("You are booked").wait_for()
    patient_page.screenshot(path=screenshots / "waitlist-booked-phone.png", full_page=True)
    assert_accessible(patient_page)
    phone.close()

    booked = Session.objects.get(starts_at=slot, status=Session.Status.BOOKED)
    assert booked.patient_id == waiting.pk
    # The desk sees the outcome on the waiting list.
    desk_page.goto("/waitlist/?status=closed")
    assert "Wanda Waiting" in desk_page.content()
    desk_page.get_by_role("link", name="Wanda Waiting").click()
    desk_page.get_by_text("Accepted and booked").wait_for()
    assert_accessible(desk_page)
    desk.close()


def test_the_desk_adds_a_patient_to_the_waiting_list(
    transactional_db, live_server, page, clinic, front_desk_user, practitioner_profile, room, face
):
    PatientFactory(first_name="Petra", last_name="Patience")
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=2)
    log_in(page, front_desk_user.username)
    page.goto("/waitlist/")
    page.get_by_role("link", name="Add a patient").click()
    page.get_by_label("Find the patient").fill("Patience")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Petra Patience").click()
    page.get_by_label("Session").select_option(label="Face")
    page.get_by_label("Earliest date").fill(day.isoformat())
    page.get_by_label("Latest date").fill((day + dt.timedelta(days=14)).isoformat())
    page.get_by_label("Evenings (from 17:00)").uncheck()
    page.get_by_role("button", name="Add to the waiting list").click()
    page.get_by_text("Petra Patience is on the waiting list").wait_for()
    assert_accessible(page)
    entry = Entry.objects.get()
    assert (entry.status, entry.evenings, entry.mornings, entry.added_by_id) == (
        Entry.Status.ACTIVE,
        False,
        True,
        front_desk_user.pk,
    )
    page.goto("/waitlist/")
    assert "Petra Patience" in page.locator("table").inner_text()
