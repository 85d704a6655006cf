"""Rebooking: "Book next" prefills the booking form and offers the nearest free starts.

Now is frozen at Friday 20 March 2026, 09:00 GMT; the clinic (Europe/London) is open 08-20 and
the practitioners work 08-20 every day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mesoclinic.errors import DomainError
from patients.tests.factories import PatientFactory
from treatments.courses.tests.factories import CourseFactory
from treatments.models import Session
from treatments.rebook import free_starts
from treatments.services.booking import session_book
from treatments.tests.factories import SessionFactory, StaffProfileFactory

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, d, hh, mm, tzinfo=LONDON)


@pytest.fixture
def patient(clinic):
    return PatientFactory(first_name="Jane", last_name="Austen")


@pytest.fixture
def last_visit(patient, practitioner_profile, room, face) -> Session:
    return SessionFactory.create(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(19, 10),
        status=Session.Status.COMPLETED,
    )


def offered(**kwargs) -> list[dt.datetime]:
    return [
        start.starts_at.astimezone(LONDON)
        for start in free_starts(now=NOW, zone=LONDON, after=NOW, **kwargs)
    ]


def test_it_offers_the_nearest_free_starts_spread_over_the_day(
    practitioner_profile, face, room, patient
):
    starts = offered(session_type=face, practitioner=practitioner_profile, count=4, per_day=3)
    assert starts == [local(20, 9, 15), local(20, 10, 15), local(20, 11, 15), local(21, 8)]


def test_it_skips_the_practitioners_and_the_rooms_busy_time_clean_up_included(
    practitioner_profile, face, room, patient
):
    # The practitioner is held 09:15-10:15 (incl. clean-up); the only room 10:15-11:15 by
    # someone else.
    SessionFactory(
        practitioner=practitioner_profile, room=room, session_type=face, starts_at=local(20, 9, 15)
    )
    SessionFactory(
        practitioner=StaffProfileFactory(),
        room=room,
        session_type=face,
        starts_at=local(20, 10, 15),
    )
    starts = offered(session_type=face, practitioner=practitioner_profile, count=2)
    assert starts == [local(20, 11, 15), local(20, 12, 15)]


def test_it_skips_the_time_the_patient_is_in_another_session(
    practitioner_profile, face, room, room2, patient
):
    SessionFactory(
        patient=patient,
        practitioner=StaffProfileFactory(),
        room=room2,
        session_type=face,
        starts_at=local(20, 9, 15),
    )
    starts = offered(
        session_type=face, practitioner=practitioner_profile, patient_id=patient.pk, count=1
    )
    assert starts == [local(20, 10)]


def test_every_offered_start_is_accepted_by_the_booking_service(
    practitioner_profile, face, scalp_superficial, room, room2, patient
):
    rng = random.Random(8)
    types = [face, scalp_superficial]
    for _ in range(40):  # a random, dense schedule
        day, minute = rng.randrange(20, 23), rng.randrange(8 * 60, 19 * 60, 5)
        start = local(day, minute // 60, minute % 60)
        with contextlib.suppress(DomainError):
            session_book(
                patient=PatientFactory(),
                session_type=rng.choice(types),
                practitioner=practitioner_profile,
                room=rng.choice([room, room2]),
                starts_at=start,
            )
    for session_type in types:
        for start in free_starts(
            session_type=session_type,
            practitioner=practitioner_profile,
            patient_id=patient.pk,
            after=NOW,
            now=NOW,
            zone=LONDON,
            count=12,
            per_day=12,
        ):
            with_room = start.room
            booked = session_book(
                patient=patient,
                session_type=session_type,
                practitioner=practitioner_profile,
                room=with_room,
                starts_at=start.starts_at,
            )
            booked.delete()


def test_it_reads_a_fixed_number_of_queries_whatever_the_sessions(
    practitioner_profile, face, room, patient
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            offered(session_type=face, practitioner=practitioner_profile, patient_id=patient.pk)
        return len(queries)

    few = count()
    for day in range(21, 27):
        SessionFactory(
            practitioner=practitioner_profile, room=room, session_type=face, starts_at=local(day, 9)
        )
    assert count() == few <= 5


def links(html: str, marker: str) -> list[str]:
    return [unescape(m) for m in re.findall(rf'href="([^"]+)"[^>]*{marker}', html)]


def test_book_next_from_a_session_offers_slots_and_one_click_fills_the_form(
    front_desk, last_visit, patient, face, practitioner_profile, room
):
    session_page = front_desk.get(reverse("treatments:session_detail", args=[last_visit.pk]))
    (book_next,) = links(session_page.content.decode(), "data-book-next")
    query = parse_qs(urlsplit(book_next).query)
    assert query["patient"] == [str(patient.pk)]
    assert query["session_type"] == [str(face.pk)]
    assert query["practitioner"] == [str(practitioner_profile.pk)]

    form_page = front_desk.get(book_next).content.decode()
    slots = links(form_page, "data-offered-slot")
    assert len(slots) == 6
    chosen = front_desk.get(slots[0])
    form = chosen.context["form"]
    assert form.initial["date"] == "2026-03-20" and form.initial["time"] == "09:15"
    assert form.initial["room"] == str(room.pk)
    assert 'aria-current="true"' in chosen.content.decode()
    # Choosing a later time keeps the same times on offer.
    assert links(front_desk.get(slots[-1]).content.decode(), "data-offered-slot") == slots

    data = {**{k: v[0] for k, v in parse_qs(urlsplit(slots[0]).query).items()}, "notes": ""}
    booked = front_desk.post(reverse("treatments:session_create"), data)
    assert booked.status_code == 302
    assert Session.objects.filter(
        patient=patient, starts_at=local(20, 9, 15), status=Session.Status.BOOKED
    ).exists()


def test_book_next_is_on_the_patient_page(front_desk, last_visit, patient):
    html = front_desk.get(reverse("patients:patient_detail", args=[patient.pk])).content.decode()
    (url,) = links(html, "data-book-next")
    assert parse_qs(urlsplit(url).query)["session_type"] == [str(last_visit.session_type_id)]


def test_book_next_from_a_course_starts_at_the_next_steps_window(
    front_desk, patient, practitioner_profile, face, room
):
    course = CourseFactory(patient=patient, practitioner=practitioner_profile, session_type=face)
    first = course.steps.get(number=1)
    first.session = SessionFactory(
        patient=patient,
        practitioner=practitioner_profile,
        session_type=face,
        room=room,
        starts_at=local(19, 10),
        status=Session.Status.COMPLETED,
    )
    first.save()
    html = front_desk.get(reverse("courses:course_detail", args=[course.pk])).content.decode()
    (url,) = links(html, "data-book-next")
    opens = dt.date(2026, 3, 19) + dt.timedelta(days=course.interval_min_days)
    assert parse_qs(urlsplit(url).query)["date"] == [opens.isoformat()]
    form_page = front_desk.get(url).content.decode()
    slots = links(form_page, "data-offered-slot")
    first_slot = parse_qs(urlsplit(slots[0]).query)
    assert first_slot["date"] == [opens.isoformat()]
    assert links(front_desk.get(slots[-1]).content.decode(), "data-offered-slot") == slots
