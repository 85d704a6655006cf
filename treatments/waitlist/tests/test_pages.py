"""The desk's pages (list with flat query counts, add, withdraw, settings), the booking page's
"join the waiting list" with its emailed link, and a course step offered an earlier slot."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.courses.models import Course
from treatments.courses.services import course_book_step
from treatments.courses.tests.factories import CourseFactory
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage
from treatments.models import Clinic, OnlineBooking, Session
from treatments.services.booking import session_cancel
from treatments.waitlist import links
from treatments.waitlist.models import Entry, Offer, WaitlistSettings
from treatments.waitlist.services import entry_add, offer_accept

from .conftest import DAY, LONDON, SLOT, wish

pytestmark = pytest.mark.django_db


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("waitlist:entry_list"))
    assert response.status_code == 200
    # The session row is refreshed when the frozen clock moved on: not the page's own reads.
    return len(
        [
            q
            for q in queries.captured_queries
            if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
    )


def test_the_desk_list_shows_entries_in_join_order_with_flat_queries(
    booked, waiting, front_desk, frozen, face
):
    session_cancel(session=booked, reason="Patient unwell")
    _list_queries(front_desk)  # warm: the first request after sign-in writes the session
    few = _list_queries(front_desk)
    page = front_desk.get(reverse("waitlist:entry_list")).content.decode()
    names = re.findall(r"Wait(\d) Ing", page)
    assert names == ["0", "1", "2", "3"]
    assert page.count("Offered") >= 3
    for n in range(20):
        frozen.shift(dt.timedelta(minutes=1))
        entry_add(patient=PatientFactory(last_name=f"More{n}"), wish=wish(face))
    session_cancel(
        session=Session.objects.create(
            patient=PatientFactory(),
            session_type=face,
            practitioner=booked.practitioner,
            room=booked.room,
            starts_at=SLOT + dt.timedelta(hours=3),
            ends_at=SLOT + dt.timedelta(hours=3, minutes=45),
            blocked_until=SLOT + dt.timedelta(hours=4),
        ),
        reason="Moved",
    )
    assert Entry.objects.count() == 24 and Offer.objects.count() == 6
    assert _list_queries(front_desk) == few


def test_the_desk_adds_a_patient_and_sees_the_entry(front_desk, frozen, face, practitioner_profile):
    patient = PatientFactory(first_name="Desk", last_name="Added")
    url = reverse("waitlist:entry_add") + f"?patient={patient.pk}"
    assert "Desk Added" in front_desk.get(url).content.decode()
    response = front_desk.post(
        url,
        {
            "patient": patient.pk,
            "session_type": face.pk,
            "practitioner": practitioner_profile.pk,
            "earliest": "2031-06-03",
            "latest": "2031-06-20",
            "afternoons": "on",
            "note": "Prefers Tuesdays",
        },
    )
    entry = Entry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("waitlist:entry_detail", args=[entry.pk])
    assert (entry.mornings, entry.afternoons, entry.evenings) == (False, True, False)
    assert entry.added_by.username == "frontdesk" or entry.added_by is not None
    detail = front_desk.get(response["Location"]).content.decode()
    assert "Afternoons" in detail and "Prefers Tuesdays" in detail

    backwards = front_desk.post(
        url,
        {
            "patient": patient.pk,
            "session_type": face.pk,
            "earliest": "2031-06-20",
            "latest": "2031-06-03",
            "mornings": "on",
        },
    )
    assert backwards.status_code == 200
    assert "on or before" in backwards.content.decode()


def test_the_desk_finds_the_patient_from_the_waitlist_page(front_desk, frozen, face):
    PatientFactory(first_name="Findme", last_name="Please")
    page = front_desk.get(reverse("waitlist:entry_add"), {"q": "Please"}).content.decode()
    assert "Findme Please" in page and "?patient=" in page


def test_the_desk_withdraws_an_entry(front_desk, frozen, face):
    entry = entry_add(patient=PatientFactory(), wish=wish(face))
    response = front_desk.post(reverse("waitlist:entry_withdraw", args=[entry.pk]))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == Entry.Status.WITHDRAWN


def test_the_manager_changes_the_settings(manager, clinic):
    response = manager.post(
        reverse("waitlist:settings"),
        {"batch_size": 2, "offer_minutes": 45, "notice_minutes": 120},
    )
    assert response.status_code == 302
    assert WaitlistSettings.objects.filter(
        batch_size=2, offer_minutes=45, notice_minutes=120
    ).exists()
    refused = manager.post(
        reverse("waitlist:settings"), {"batch_size": 0, "offer_minutes": 5, "notice_minutes": 0}
    )
    assert refused.status_code == 200
    assert WaitlistSettings.objects.get().batch_size == 2


def test_offer_messages_are_listed_on_the_patients_messages_page(booked, waiting, front_desk):
    session_cancel(session=booked, reason="Patient unwell")
    patient = waiting[0].patient
    page = front_desk.get(reverse("messaging:patient_messages", args=[patient.pk]))
    text = page.content.decode()
    assert "Waiting list: a slot is free" in text
    assert reverse("waitlist:entry_detail", args=[waiting[0].pk]) in text


# --- the patient joins from the booking page ---------------------------------------------------


@pytest.fixture
def online(clinic, face, practitioner_profile, room):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = True
    face.save()
    return face


def _join(client, email, born, face, ip="10.1.1.1"):
    return client.post(
        reverse("waitlist:join"),
        {
            "session_type": face.pk,
            "earliest": "2031-06-03",
            "latest": "2031-06-30",
            "mornings": "on",
            "afternoons": "on",
            "email": email,
            "date_of_birth": born,
        },
        REMOTE_ADDR=ip,
    )


def _join_link(email):
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    return re.search(r"/waitlist/join/confirm/\S+/", message.body).group(0)


def test_a_patient_joins_from_the_booking_page_by_the_emailed_link(online, frozen, client):
    patient = PatientFactory(email="known@example.com", date_of_birth=dt.date(1980, 2, 3))
    book = client.get(reverse("online:book")).content.decode()
    assert reverse("waitlist:join") in book
    response = _join(client, "known@example.com", "1980-02-03", online)
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.status, entry.patient_id) == (Entry.Status.AWAITING_EMAIL, None)
    dispatch_in_process()
    link = _join_link("known@example.com")
    assert client.get(link).status_code == 200  # a button, nothing done yet
    entry.refresh_from_db()
    assert entry.status == Entry.Status.AWAITING_EMAIL
    done = client.post(link)
    assert "You are on the waiting list" in done.content.decode()
    entry.refresh_from_db()
    assert (entry.status, entry.patient_id, entry.added_online) == (
        Entry.Status.ACTIVE,
        patient.pk,
        True,
    )
    assert OutboxMessage.objects.get(kind=Kind.WAITLIST_JOIN).patient_id == patient.pk
    assert client.post(link).status_code == 400  # used


def test_joining_reveals_nothing_about_an_unknown_address(online, frozen, client):
    PatientFactory(email="known@example.com", date_of_birth=dt.date(1980, 2, 3))
    known = _join(client, "known@example.com", "1980-02-03", online, ip="10.1.1.2")
    unknown = _join(client, "nobody@example.com", "1980-02-03", online, ip="10.1.1.3")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    dispatch_in_process()
    assert len([m for m in mail.outbox if m.to == ["nobody@example.com"]]) == 1
    result = client.post(_join_link("nobody@example.com"))
    assert "Please call the clinic" in result.content.decode()
    assert not Entry.objects.filter(status=Entry.Status.ACTIVE, email="nobody@example.com")


def test_joining_is_rate_limited_with_the_booking_page(online, frozen, client, settings):
    settings.ONLINE_BOOKING_EMAIL_RATE = "2/h"
    codes = [
        _join(client, "same@example.com", "1980-02-03", online, ip=f"10.2.0.{n}").status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


def test_a_do_not_book_patient_is_not_joined_online(online, frozen, client):
    PatientFactory(email="held@example.com", date_of_birth=dt.date(1980, 2, 3), booking_hold=True)
    _join(client, "held@example.com", "1980-02-03", online, ip="10.3.0.1")
    dispatch_in_process()
    result = client.post(_join_link("held@example.com"))
    assert "Please call the clinic" in result.content.decode()
    assert not Entry.objects.filter(status=Entry.Status.ACTIVE).exists()


# --- a course step is offered an earlier slot inside its window ---------------------------------


def test_a_course_step_booked_late_is_moved_to_an_earlier_freed_slot(
    frozen, clinic, practitioner_profile, room, face, booked
):
    course = CourseFactory(
        patient=PatientFactory(),
        practitioner=practitioner_profile,
        session_type=face,
        sessions_count=3,
        interval_min_days=1,
        interval_max_days=10,
    )
    first = course_book_step(
        course=course, step_number=1, starts_at=SLOT - dt.timedelta(days=1, hours=-2)
    )
    late = course_book_step(course=course, step_number=2, starts_at=SLOT + dt.timedelta(days=5))
    url = reverse("waitlist:entry_add") + f"?patient={course.patient_id}&course={course.pk}&step=2"
    entry = entry_add(
        patient=course.patient,
        wish=wish(face, earliest=DAY, latest=(SLOT + dt.timedelta(days=5)).date()),
        course=course,
        step_number=2,
    )
    assert url and first.session.status == Session.Status.BOOKED
    session_cancel(session=booked, reason="Patient unwell")
    offer = Offer.objects.get(entry=entry)
    assert offer.starts_at == SLOT
    result = offer_accept(token=links.offer_token(offer))
    assert result.outcome == "booked"
    late.session.refresh_from_db()
    assert late.session.starts_at == SLOT  # the step's own session moved earlier
    assert course.steps.get(number=2).session_id == late.session.pk
    assert Course.objects.get(pk=course.pk).status == Course.Status.ACTIVE
    assert SLOT.astimezone(LONDON).date() == DAY


def test_the_course_link_prefills_the_steps_dates(
    front_desk, frozen, clinic, practitioner_profile, room, face
):
    course = CourseFactory(
        patient=PatientFactory(),
        practitioner=practitioner_profile,
        session_type=face,
        sessions_count=3,
        interval_min_days=7,
        interval_max_days=14,
    )
    course_book_step(course=course, step_number=1, starts_at=SLOT)
    url = reverse("waitlist:entry_add") + f"?patient={course.patient_id}&course={course.pk}&step=2"
    page = front_desk.get(url).content.decode()
    assert 'value="2031-06-10"' in page and 'value="2031-06-17"' in page
