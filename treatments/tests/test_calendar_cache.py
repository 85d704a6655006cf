"""The calendar's cached grid: served again while nothing changed, never stale after a change.

These tests commit (transaction=True): on PostgreSQL the version is bumped at commit, as in
production, so a test inside one rolled-back transaction would only ever see the cache bypassed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.messaging.models import SessionConfirmation
from treatments.models import (
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
    WorkingHours,
)
from treatments.selectors import calendar_version
from treatments.services.booking import session_book, session_cancel, session_reschedule
from treatments.tests.factories import RoomFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = ZoneInfo("Europe/London")
URL = reverse("treatments:calendar")
# Friday 20 March 2026, 09:00 in London (GMT). The week shown is the next one.
NOW = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)
WEEK = {"date": "2026-03-24"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(y, m, d, hh, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON)


def get(client, params=WEEK, **headers):
    response = client.get(URL, params, headers=headers)
    assert response.status_code == 200
    return response, response.content.decode()


def cached(response) -> bool:
    return response.context["calendar"].cached


def test_the_same_grid_is_served_from_the_cache_while_nothing_changes(
    front_desk, practitioner_profile, room, face
):
    first, html = get(front_desk)
    again, _ = get(front_desk)
    assert (cached(first), cached(again)) == (False, True)
    assert again.context["calendar"].html == first.context["calendar"].html
    # The htmx partial is the same fragment, from the same cache entry.
    partial, body = get(front_desk, HX_Request="true")
    assert cached(partial)
    assert body.strip().startswith('<div id="calendar"')
    assert body.strip() in html


def test_a_cached_page_still_has_the_page_in_its_context(front_desk, practitioner_profile, room):
    get(front_desk)
    response, _ = get(front_desk)
    assert cached(response)
    assert response.context["page"].session_count == 0
    assert "<title>Calendar · 23–29 March 2026" in response.content.decode()


def test_a_booking_shows_at_once(front_desk, practitioner_profile, room, face):
    get(front_desk)
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    session = session_book(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=local(2026, 3, 24, 10),
    )
    response, html = get(front_desk)
    assert not cached(response)
    assert f'id="session-{session.pk}"' in html and "Jane Austen" in html


def test_a_cancellation_a_move_and_a_rename_show_at_once(
    front_desk, practitioner_profile, room, face
):
    session = session_book(
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=local(2026, 3, 24, 10),
    )
    get(front_desk)
    assert cached(get(front_desk)[0])

    session = session_reschedule(session=session, starts_at=local(2026, 3, 24, 15))
    _, html = get(front_desk)
    assert "15:00–15:45" in html and "10:00–10:45" not in html

    Patient.objects.filter(pk=session.patient_id).update(first_name="Janet")
    _, html = get(front_desk)
    assert "Janet Austen" in html and "Jane Austen" not in html

    session_cancel(session=session, reason="Patient asked")
    _, html = get(front_desk)
    assert "<s>15:00 Janet Austen</s> cancelled" in html


def test_a_change_of_working_hours_shows_at_once(front_desk, practitioner_profile, room, face):
    response, _ = get(front_desk, {**WEEK, "session_type": face.pk})
    assert response.context["page"].rows[0].cells[1].kind == "free"
    WorkingHours.objects.filter(staff=practitioner_profile, weekday=1).update(starts=dt.time(12))
    response, _ = get(front_desk, {**WEEK, "session_type": face.pk})
    assert not cached(response)
    first = next(r for r in response.context["page"].rows if r.at == dt.time(8))
    assert first.cells[1].kind == "closed"


def test_two_quarter_hours_of_today_are_two_grids(front_desk, practitioner_profile, room, face):
    today = {"view": "day", "date": "2026-03-20", "session_type": face.pk}
    _, html = get(front_desk, today)
    assert 'aria-label="Book Face at 09:15 on Fri 20 Mar with Ada Doctor in Room 1"' in html
    with time_machine.travel(NOW + dt.timedelta(minutes=16), tick=False):
        later, later_html = get(front_desk, today)
        assert not cached(later)
        assert (
            'aria-label="Book Face at 09:15 on Fri 20 Mar with Ada Doctor in Room 1"'
            not in later_html
        )
        assert cached(get(front_desk, today)[0])


def test_another_week_is_not_tied_to_the_quarter_hour(front_desk, practitioner_profile):
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        get(front_desk)
    with time_machine.travel(NOW + dt.timedelta(minutes=20), tick=False):
        assert cached(get(front_desk)[0])
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        # A new day: "today" moved, so the link and the grid's past cells may differ.
        assert not cached(get(front_desk)[0])


def test_a_bad_address_is_rendered_afresh_with_its_notice(front_desk, practitioner_profile):
    for _ in range(2):
        response, html = get(front_desk, {"date": "2026-02-30"})
        assert not cached(response)
        assert "was not understood" in html


def test_the_week_without_a_practitioner_is_the_viewers_own(
    front_desk, practitioner, practitioner_profile, therapist, therapist_profile
):
    get(front_desk)
    response, _ = get(therapist)
    assert {c.practitioner for c in response.context["page"].columns} == {therapist_profile}


def test_a_week_of_someone_not_bookable_falls_back_to_the_viewers_own(
    front_desk, therapist, practitioner_profile, therapist_profile, room, scalp_superficial
):
    gone = {"date": "2026-03-24", "practitioner": "99999", "session_type": scalp_superficial.pk}
    response, _ = get(front_desk, gone)
    assert {c.practitioner for c in response.context["page"].columns} == {practitioner_profile}
    response, html = get(therapist, gone)
    assert {c.practitioner for c in response.context["page"].columns} == {therapist_profile}
    assert "with Tess Therapist" in html


def test_a_cached_week_costs_fewer_queries(
    front_desk, practitioner_profile, room, face, django_assert_max_num_queries
):
    get(front_desk)
    # Session, user, second-factor device, roles, clinic, calendar version.
    with django_assert_max_num_queries(6):
        assert cached(get(front_desk)[0])


def _writes():
    """One write to each table the grid shows, as (label, callable)."""

    def session():
        s = Session.objects.get()
        Session.objects.filter(pk=s.pk).update(notes="x")

    return [
        ("session", session),
        ("working hours", lambda: WorkingHours.objects.update(ends=dt.time(19))),
        (
            "exception",
            lambda: WorkingException.objects.create(
                staff=StaffProfile.objects.get(), date=dt.date(2026, 3, 25), kind="leave"
            ),
        ),
        ("opening hours", lambda: OpeningHours.objects.filter(weekday=0).delete()),
        ("room", lambda: Room.objects.update(name="Renamed")),
        ("staff", lambda: StaffProfile.objects.update(bookable=False)),
        ("session type", lambda: SessionType.objects.update(name="Facial")),
        ("clinic", lambda: Clinic.objects.update(timezone="Europe/Dublin")),
        ("user name", lambda: User.objects.update(last_name="Other")),
        ("patient name", lambda: Patient.objects.update(last_name="Other")),
        ("new room", lambda: RoomFactory(name="Room 9")),
        ("new session type", lambda: SessionTypeFactory(name="Neck")),
        (
            "patient confirmation",
            lambda: SessionConfirmation.objects.create(
                session=Session.objects.get(), confirmed_at=timezone.now()
            ),
        ),
    ]


@pytest.mark.parametrize("label", [label for label, _ in _writes()])
def test_every_table_the_grid_shows_changes_the_version(label, practitioner_profile, room, face):
    session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=local(2026, 3, 24, 10),
    )
    before = calendar_version()
    dict(_writes())[label]()
    after = calendar_version()
    assert before is not None and after is not None
    assert after != before


def test_a_login_does_not_change_the_version(practitioner_profile):
    before = calendar_version()
    User.objects.filter(pk=practitioner_profile.user_id).update(last_login=timezone.now())
    Patient.objects.update(phone="07700 900123")
    assert calendar_version() == before


def test_uncommitted_changes_are_never_cached(practitioner_profile, room, face):
    before = calendar_version()
    with transaction.atomic():
        Room.objects.update(name="Being renamed")
        inside = calendar_version()
        if connection.vendor == "postgresql":
            # Bumped at commit; until then the transaction's readers skip the cache.
            assert inside is None
        else:
            assert inside not in (None, before)
    assert calendar_version() not in (None, before)


def test_a_rolled_back_change_leaves_the_version_as_it_was(practitioner_profile, room):
    before = calendar_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Room.objects.update(name="Never")
        raise RuntimeError
    assert calendar_version() == before
