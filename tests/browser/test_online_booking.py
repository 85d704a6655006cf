"""A new patient books a consultation online on a phone, confirms from the email's link, and the
front desk sees the session in the calendar."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.messaging.dispatch import dispatch_in_process
from treatments.models import Clinic, OnlineBooking, Session

pytestmark = [pytest.mark.browser]


def test_a_new_patient_books_a_consultation_online_and_the_desk_sees_it(
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
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=14)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()

    page.goto("/book/")
    assert "Test Clinic" in page.content()
    page.get_by_label("Session").select_option(label="Face")
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.locator("label.btn", has_text="10:00").click()
    assert page.get_by_label("10:00").is_checked()
    page.get_by_label("No, I am new").check()
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Date of birth").fill("1990-05-01")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Newcombe")
    page.get_by_label("Phone").fill("07700900123")
    page.screenshot(path=screenshots / "online-booking-phone.png", full_page=True)
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.get_by_text("Check your email").wait_for()
    assert Session.objects.count() == 0

    dispatch_in_process()
    [email] = mail.outbox
    assert email.to == ["nina@example.com"]
    link = re.search(rf"{re.escape(live_server.url)}/book/confirm/\S+/", email.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("You are booked").wait_for()
    page.screenshot(path=screenshots / "online-booked-phone.png", full_page=True)
    session = Session.objects.get()
    assert session.patient.last_name == "Newcombe"
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(10)
    context.close()

    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    desk.set_default_timeout(10_000)
    desk_page = desk.new_page()
    log_in(desk_page, front_desk_user.username)
    desk_page.goto(f"/calendar/?view=day&date={day.isoformat()}")
    desk_page.wait_for_selector("#calendar")
    assert "Newcombe" in desk_page.locator("#calendar").inner_text()
    desk.close()


def test_an_existing_patient_requests_a_follow_up_and_the_desk_approves_it(
    transactional_db,
    live_server,
    page,
    settings,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    settings.MESSAGING_SITE_URL = live_server.url
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    face.bookable_online = True
    face.save()
    PatientFactory(
        first_name="Olive",
        last_name="Oldhand",
        email="olive@example.com",
        date_of_birth=dt.date(1970, 3, 2),
    )
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=10)

    page.goto("/book/")
    page.get_by_label("Session").select_option(label="Face")
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.locator("label.btn", has_text="11:00").click()
    page.get_by_label("Yes, I am a patient").check()
    page.get_by_label("Email").fill("olive@example.com")
    page.get_by_label("Date of birth").fill("1970-03-02")
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.get_by_text("Check your email").wait_for()
    dispatch_in_process()
    [email] = mail.outbox
    link = re.search(rf"{re.escape(live_server.url)}/book/confirm/\S+/", email.body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Request received").wait_for()
    assert Session.objects.count() == 0

    log_in(page, front_desk_user.username)
    page.get_by_role("link", name="Online requests").click()
    assert "Oldhand" in page.locator("table").inner_text()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Booked; the patient is told.").wait_for()
    session = Session.objects.get()
    assert session.patient.last_name == "Oldhand"
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(11)
    dispatch_in_process()
    told = [m for m in mail.outbox[1:] if "approved your request" in m.body]
    assert len(told) == 1 and told[0].to == ["olive@example.com"]
