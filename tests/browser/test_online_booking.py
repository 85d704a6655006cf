"""Online booking as patients and the desk click through it, at phone width (390x844) and on a
desktop: a new patient books a consultation and confirms from the email's link, as delivered to
a local SMTP server; the desk sees the session in the calendar. An existing patient books a
follow-up type. In "request" mode the desk approves and the approval email arrives. Every page
is checked by axe-core (checked_context)."""

from __future__ import annotations

import datetime as dt
import email
import re
import threading
from collections.abc import Iterator
from email.policy import default as default_policy
from typing import Any

import pytest
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import checked_context, log_in
from tests.support.smtp import SmtpSink, smtp_server
from treatments.clinic_time import local_to_utc
from treatments.messaging.dispatch import dispatch_in_process
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online.services import Applicant, online_link_make, online_request_create
from treatments.tests.factories import SessionFactory, SessionTypeFactory

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])


class Mailbox(SmtpSink):
    """The local SMTP server's inbox: who each message went to, and the message."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[list[str], Any]] = []
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return await super().handle_DATA(server, session, envelope)

    def deliver(self) -> list[tuple[str, str, str]]:
        """Run the dispatcher once (as `make run` does every interval); the new messages'
        (recipient, subject, text), as the SMTP server received them."""
        before = len(self.received)
        dispatch_in_process()
        with self.lock:
            new = self.received[before:]
        return [
            (", ".join(to), str(m["Subject"]), m.get_body(preferencelist=("plain",)).get_content())
            for to, m in new
        ]


@pytest.fixture
def mailbox(settings, live_server) -> Iterator[Mailbox]:
    sink = Mailbox()
    with smtp_server(sink) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.MESSAGING_SITE_URL = live_server.url
        yield sink


def _link(text: str, base: str) -> str:
    found = re.search(rf"{re.escape(base)}/book/confirm/\S+/", text)
    assert found, text
    return found.group(0)


def _choose(page, session_type: str, day: dt.date, time: str) -> None:
    page.goto("/book/")
    page.get_by_label("Session").select_option(label=session_type)
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_url(lambda url: "session_type=" in url)
    page.locator("label.btn", has_text=time).click()
    assert page.get_by_label(time).is_checked()


@VIEWPORTS
def test_a_new_patient_books_a_consultation_online_and_the_desk_sees_it(
    transactional_db,
    live_server,
    browser,
    mailbox,
    screenshots,
    viewport,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=14)
    context = checked_context(browser, live_server.url, viewport=viewport)
    page = context.new_page()

    _choose(page, "Face", day, "10:00")
    assert "Test Clinic" in page.content()
    page.get_by_label("No, I am new").check()
    page.get_by_label("Email", exact=True).fill("nina@example.com")
    page.get_by_label("Date of birth").fill("1990-05-01")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Newcombe")
    page.get_by_label("Phone").fill("07700900123")
    reminders = page.get_by_label("Email me reminders before my appointments")
    assert not reminders.is_checked()
    assert not page.get_by_label("Email me when my next session is due").is_checked()
    reminders.check()
    name = "phone" if viewport is PHONE else "desktop"
    page.screenshot(path=screenshots / f"online-booking-{name}.png", full_page=True)
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.wait_for_url("**/book/check-your-email/")
    page.get_by_text("Check your email").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    assert Session.objects.count() == 0

    [(to, subject, text)] = mailbox.deliver()
    assert to == "nina@example.com" and "Confirm your booking" in subject
    page.goto(_link(text, live_server.url))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("You are booked").wait_for()
    # A new patient's consultation: the health questionnaire, straight from the booked page.
    questionnaire = page.get_by_role("link", name="Answer the health questionnaire now")
    assert "/m/questionnaire/" in (questionnaire.get_attribute("href") or "")
    assert_accessible(page)  # reached by a click: check it too
    page.screenshot(path=screenshots / f"online-booked-{name}.png", full_page=True)
    session = Session.objects.get()
    assert session.patient.last_name == "Newcombe"
    assert session.patient.email_reminders_consent and not session.patient.marketing_consent
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(10)
    # The booking's confirmation, with its calendar file, reaches the verified address.
    confirmations = [m for m in mailbox.deliver() if "is booked" in m[2]]
    assert [m[0] for m in confirmations] == ["nina@example.com"]
    context.close()

    desk = checked_context(browser, live_server.url, viewport=DESKTOP)
    desk_page = desk.new_page()
    log_in(desk_page, front_desk_user.username)
    desk_page.goto(f"/calendar/?view=day&date={day.isoformat()}")
    desk_page.wait_for_selector("#calendar")
    assert "Newcombe" in desk_page.locator("#calendar").inner_text()
    desk.close()


@VIEWPORTS
def test_an_existing_patient_books_a_follow_up_type_online(
    transactional_db,
    live_server,
    browser,
    mailbox,
    viewport,
    clinic,
    practitioner_profile,
    room,
    face,
):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    SessionTypeFactory(
        name="Follow-up", duration_minutes=30, buffer_minutes=10, bookable_online=True
    )
    PatientFactory(
        first_name="Olive",
        last_name="Oldhand",
        email="olive@example.com",
        date_of_birth=dt.date(1970, 3, 2),
    )
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=9)
    context = checked_context(browser, live_server.url, viewport=viewport)
    page = context.new_page()

    _choose(page, "Follow-up (if you have been to the clinic)", day, "14:00")
    page.get_by_label("Yes, I am a patient").check()
    page.get_by_label("Email", exact=True).fill("olive@example.com")
    page.get_by_label("Date of birth").fill("1970-03-02")
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.get_by_text("Check your email").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    [(to, _, text)] = mailbox.deliver()
    assert to == "olive@example.com"
    page.goto(_link(text, live_server.url))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("You are booked").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    assert "Follow-up" in page.locator("main").inner_text()
    session = Session.objects.get()
    assert session.session_type.name == "Follow-up" and session.patient.last_name == "Oldhand"
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(14)
    context.close()


@VIEWPORTS
def test_in_request_mode_the_desk_approves_and_the_patient_is_told(
    transactional_db,
    live_server,
    browser,
    mailbox,
    viewport,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
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
    context = checked_context(browser, live_server.url, viewport=viewport)
    page = context.new_page()

    _choose(page, "Face (if you have been to the clinic)", day, "11:00")
    page.get_by_label("Yes, I am a patient").check()
    page.get_by_label("Email", exact=True).fill("olive@example.com")
    page.get_by_label("Date of birth").fill("1970-03-02")
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.get_by_text("Check your email").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    [(_, _, text)] = mailbox.deliver()
    page.goto(_link(text, live_server.url))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Request received").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    assert Session.objects.count() == 0
    [(to, subject, text)] = mailbox.deliver()
    assert to == "olive@example.com" and "request" in subject and "Nothing is booked yet" in text
    context.close()

    # The desk works at a desk (the staff pages are measured at desktop and tablet width).
    desk = checked_context(browser, live_server.url, viewport=DESKTOP)
    desk_page = desk.new_page()
    log_in(desk_page, front_desk_user.username)
    desk_page.goto("/book/requests/")
    assert "Oldhand" in desk_page.locator("table").inner_text()
    desk_page.get_by_role("button", name="Approve").click()
    desk_page.get_by_text("Booked; the patient is told.").wait_for()
    assert_accessible(desk_page)  # reached by a click: check it too
    session = Session.objects.get()
    assert session.patient.last_name == "Oldhand"
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(11)
    desk.close()

    told = mailbox.deliver()
    assert len(told) == 1
    [(to, subject, text)] = told
    assert to == "olive@example.com" and "approved your request" in text
    assert "11:00" in text and f"{live_server.url}/m/cancel/" in text


NARROW = {"width": 360, "height": 740}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def _tab_to(page, selector: str, most: int) -> int:
    """Press Tab until the focused element matches `selector`; how many presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return presses
    raise AssertionError(f"{selector} not reached in {most} Tab presses")


def test_the_public_pages_fit_a_360_px_phone_and_work_from_the_keyboard(
    transactional_db,
    live_server,
    browser,
    mailbox,
    screenshots,
    clinic,
    practitioner_profile,
    room,
    face,
):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=14)
    context = checked_context(browser, live_server.url, viewport=NARROW)
    page = context.new_page()
    page.goto("/book/")
    assert page.evaluate(FITS)
    page.goto(f"/book/?session_type={face.pk}&practitioner=&day={day.isoformat()}")
    assert page.evaluate(FITS)

    # Every free time is a target of at least 24 x 24 px (WCAG 2.2, 2.5.8) and none spills over.
    boxes = [label.bounding_box() for label in page.locator("label.btn").all()]
    assert len(boxes) > 20
    assert all(b["width"] >= 24 and b["height"] >= 24 and b["x"] + b["width"] <= 360 for b in boxes)
    # Text inputs at 16 px or more: phones do not zoom the page when one is focused.
    sizes = page.eval_on_selector_all(
        "input.form-control, select",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert min(sizes) >= 16

    # The whole second form from the keyboard: the first free time is a few Tabs away
    # (see the count below), with a visible focus ring.
    presses = _tab_to(page, "input[name=slot]", most=12)
    ring = page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).boxShadow")
    assert ring not in ("", "none")
    page.keyboard.press("Space")
    for _ in range(8):  # 08:00 -> 10:00, a quarter hour per arrow
        page.keyboard.press("ArrowRight")
    assert page.get_by_label("10:00").is_checked()
    _tab_to(page, "input[name=is_new]", most=2)
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("No, I am new").is_checked()
    for selector, typed in [
        ("#id_email", "nina@example.com"),
        ("#id_date_of_birth", "01011990"),  # the same in d/m and m/d order
        ("#id_first_name", "Nina"),
        ("#id_last_name", "Newcombe"),
        ("#id_phone", "07700900123"),
    ]:
        _tab_to(page, selector, most=2)
        page.keyboard.type(typed)
    assert page.get_by_label("Date of birth").input_value() == "1990-01-01"
    _tab_to(page, "#id_email_reminders_consent", most=2)
    page.keyboard.press("Space")
    page.screenshot(path=screenshots / "online-booking-360.png", full_page=True)
    _tab_to(page, "button[type=submit]", most=3)
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/check-your-email/")
    assert page.evaluate(FITS)

    [(_, _, text)] = mailbox.deliver()
    page.goto(_link(text, live_server.url))
    assert page.evaluate(FITS)
    _tab_to(page, "button[type=submit]", most=4)
    page.keyboard.press("Enter")
    page.get_by_text("You are booked").wait_for()
    assert_accessible(page)  # reached by a click: check it too
    assert page.evaluate(FITS)
    page.screenshot(path=screenshots / "online-booked-360.png", full_page=True)
    session = Session.objects.get()
    assert session.patient.email_reminders_consent
    assert session.starts_at.astimezone(clinic.zone).time() == dt.time(10)
    assert presses <= 10  # skip link, brand, type, with, day (3 parts + picker), "Show free times"
    context.close()


def test_every_public_outcome_page_passes_axe_and_fits_a_phone(
    transactional_db, live_server, browser, clinic, practitioner_profile, room, face
):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=12)
    ten = local_to_utc(dt.datetime.combine(day, dt.time(10)), clinic.zone)
    taken = online_request_create(
        session_type=face,
        practitioner=practitioner_profile,
        starts_at=ten,
        applicant=Applicant(
            email="late@example.com",
            date_of_birth=dt.date(1990, 1, 1),
            is_new=True,
            first_name="Lou",
            last_name="Late",
            phone="07700900555",
        ),
    )
    held = PatientFactory(email="held@example.com", booking_hold=True)
    refused = online_request_create(
        session_type=face,
        practitioner=None,
        starts_at=ten + dt.timedelta(hours=2),
        applicant=Applicant(email=held.email, date_of_birth=held.date_of_birth, is_new=False),
    )
    SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=ten,
        ends_at=ten + dt.timedelta(minutes=45),
        blocked_until=ten + dt.timedelta(minutes=60),
    )
    context = checked_context(browser, live_server.url, viewport=PHONE)
    page = context.new_page()
    for request, heading in [(taken, "That slot was just taken"), (refused, "Please call")]:
        page.goto(f"/book/confirm/{online_link_make(request=request)}/")
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name=heading).wait_for()
        assert_accessible(page)
        assert page.evaluate(FITS)
        if request is taken:
            assert page.get_by_role("link", name=re.compile(r"\d\d:\d\d")).count() >= 1
    page.goto("/book/confirm/not-a-link/")
    page.get_by_role("heading", name="This link no longer works").wait_for()
    assert page.evaluate(FITS)
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.OFF)
    page.goto("/book/")
    assert "not available" in page.locator("main").inner_text() and page.evaluate(FITS)
    context.close()
