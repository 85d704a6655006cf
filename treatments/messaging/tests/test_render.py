"""What the patient receives: subjects, bodies, the .ics file."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage
from treatments.messaging.render import message_preview
from treatments.services.booking import session_complete

from .conftest import LONDON, london

pytestmark = pytest.mark.django_db


def send_all(when: dt.datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(when, tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def ics_of(email) -> Calendar:
    [(name, content, mimetype)] = email.attachments
    assert name == "appointment.ics"
    assert mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


@pytest.mark.parametrize(
    ("starts", "utc_hour"),
    [(london(2026, 7, 15, 14, 30), 13), (london(2026, 12, 15, 14, 30), 14)],
    ids=["summer-BST", "winter-GMT"],
)
def test_the_ics_carries_the_clinic_vtimezone_and_the_local_time(book, starts, utc_hour):
    session = book(starts, now=starts - dt.timedelta(days=20))
    [email] = send_all(starts - dt.timedelta(days=20) + dt.timedelta(minutes=1))
    cal = ics_of(email)
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/London"
    [event] = cal.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (start.hour, start.minute) == (14, 30)
    assert start.astimezone(dt.UTC).hour == utc_hour
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=45)
    assert str(event["UID"]) == f"session-{session.pk}@mesoclinic.localhost"
    assert "Face" not in str(event["SUMMARY"])  # no treatment on a shared calendar


def test_the_confirmation_shows_time_place_practitioner_and_working_links(book, clinic, patient):
    clinic.address = "1 High Street\nLondon"
    clinic.phone = "020 7946 0000"
    clinic.save()
    book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    [email] = send_all(london(2026, 7, 1, 9, 1))
    assert email.subject == "Your appointment at Test Clinic on Wed 15 Jul at 14:30"
    assert email.to == [patient.email]
    body = email.body
    assert "Wednesday 15 July 2026, 14:30 to 15:15" in body
    assert "1 High Street, London (Room 1)" in body
    assert "Ada Doctor" in body
    assert "http://127.0.0.1:8000/m/confirm/" in body and "/m/cancel/" in body
    assert "You receive this email because you have an appointment" in body
    assert "To stop them" in body
    html = email.alternatives[0][0]
    assert "Confirm I will come" in html and "Europe/London" in html
    assert email.extra_headers["Message-ID"].startswith("<outbox-")


def test_subjects_carry_no_clinical_detail(book):
    session = book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    with time_machine.travel(london(2026, 7, 15, 15, 20), tick=False):
        session_complete(session=session)
    subjects = []
    for row in OutboxMessage.objects.filter(session=session):
        subjects.append(message_preview(row, clinic=_clinic())[0])
    assert len(subjects) == 5
    for subject in subjects:
        assert "Face" not in subject and "mesotherapy" not in subject.lower()


def _clinic():
    from treatments.selectors import clinic_get

    return clinic_get()


def test_aftercare_says_what_is_normal_when_to_call_and_links_a_reaction_report(book):
    session = book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    send_all(london(2026, 7, 1, 9, 1))
    with time_machine.travel(london(2026, 7, 15, 15, 20), tick=False):
        session_complete(session=session)
    [day1] = send_all(london(2026, 7, 16, 15, 20))
    assert "wear make-up again" in day1.body
    assert "What is normal" in day1.body and "call 999" in day1.body
    assert "/m/reaction/" in day1.body
    [day2] = send_all(london(2026, 7, 17, 15, 20))
    assert "go back to exercise" in day2.body and "sauna" in day2.body.lower()


def test_names_with_markup_are_escaped_in_html_and_plain_in_text(book, patient):
    patient.first_name = "<b>Zoë</b> O'Brien"
    patient.save()
    book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    [email] = send_all(london(2026, 7, 1, 9, 1))
    assert "Dear <b>Zoë</b> O'Brien," in email.body
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in email.alternatives[0][0]


def test_subjects_show_a_clinic_name_with_an_ampersand_or_apostrophe_as_written(book, clinic):
    # A subject is plain text: HTML escaping would mail "Smith &amp; O&#x27;Neill".
    clinic.name = "Smith & O'Neill <Skin>"
    clinic.save()
    session = book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    [email] = send_all(london(2026, 7, 1, 9, 1))
    assert email.subject.startswith("Your appointment at Smith & O'Neill <Skin> on ")
    with time_machine.travel(london(2026, 7, 15, 15, 20), tick=False):
        session_complete(session=session)
    for row in OutboxMessage.objects.filter(session=session):
        subject = message_preview(row, clinic=_clinic())[0]
        assert "&amp;" not in subject and "&#x27;" not in subject and "&lt;" not in subject


def test_a_staff_preview_never_contains_a_working_link(book):
    session = book(london(2026, 7, 15, 14, 30), now=london(2026, 7, 1, 9, 0))
    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    _subject, text = message_preview(row, clinic=_clinic())
    assert "[cancel link]" in text
    assert "/m/cancel/" not in text
    assert LONDON.key in text
