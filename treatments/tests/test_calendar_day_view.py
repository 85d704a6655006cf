"""The day view side by side (practitioners, rooms), what a session block shows, the current-time
line's data, and moving a session by dropping it on the calendar (sessions/<pk>/drop/)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.calendar.display import TYPE_COLOURS, short_name
from treatments.models import Session, WorkingHours
from treatments.tests.factories import (
    RoomFactory,
    SessionFactory,
    StaffProfileFactory,
    UserFactory,
)
from treatments.tests.test_calendar_views import _fill

LONDON = ZoneInfo("Europe/London")
URL = reverse("treatments:calendar")
# Monday 23 March 2026, 09:07 in London (GMT).
NOW = dt.datetime(2026, 3, 23, 9, 7, tzinfo=dt.UTC)
DAY = "2026-03-24"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(d, hh, mm=0) -> dt.datetime:
    return dt.datetime(2026, 3, d, hh, mm, tzinfo=LONDON)


def drop_url(session: Session) -> str:
    return reverse("treatments:session_drop", args=[session.pk])


@pytest.fixture
def austen(practitioner_profile, room, face) -> Session:
    return SessionFactory.create(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(24, 10),
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
    )


def session_cell(html: str, session: Session) -> str:
    match = re.search(rf'<td[^>]*id="session-{session.pk}".*?</td>', html, re.S)
    assert match, f"session {session.pk} is not on the page"
    return match.group(0)


# --- the block ------------------------------------------------------------------------------


def test_a_block_shows_a_short_name_and_the_full_text_in_its_popover(front_desk, austen):
    html = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    cell = session_cell(html, austen)
    assert '<span class="cal-block-patient">J. Austen</span>' in cell
    assert '<div class="cal-pop"><strong>Jane Austen</strong>' in cell
    assert 'title="10:00–10:45 · Jane Austen · Face · Room 1 · Booked.' in cell


def test_a_block_is_coloured_by_its_session_type_and_says_its_status_in_words(
    front_desk, practitioner_profile, room, room2, face, scalp_superficial
):
    booked = SessionFactory(
        practitioner=practitioner_profile, room=room, session_type=face, starts_at=local(24, 10)
    )
    done = SessionFactory(
        practitioner=practitioner_profile,
        room=room2,
        session_type=scalp_superficial,
        starts_at=local(24, 12),
        status=Session.Status.COMPLETED,
    )
    html = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    first, second = session_cell(html, booked), session_cell(html, done)
    assert f"cal-type-{face.pk % TYPE_COLOURS} " in first
    assert f"cal-type-{scalp_superficial.pk % TYPE_COLOURS} " in second
    assert 'aria-hidden="true">◷</span>Booked</span>' in first
    assert 'aria-hidden="true">✓</span>Completed</span>' in second


def test_only_a_booked_session_can_be_dragged_or_moved(
    front_desk, practitioner_profile, room, face
):
    booked = SessionFactory(
        practitioner=practitioner_profile, room=room, session_type=face, starts_at=local(24, 10)
    )
    arrived = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(24, 12),
        status=Session.Status.ARRIVED,
    )
    html = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    movable, fixed = session_cell(html, booked), session_cell(html, arrived)
    assert f'draggable="true" data-move="{drop_url(booked)}" data-at="10:00"' in movable
    assert reverse("treatments:session_reschedule", args=[booked.pk]) in movable
    assert "draggable" not in fixed
    assert reverse("treatments:session_reschedule", args=[arrived.pk]) not in fixed


@pytest.mark.parametrize(
    ("first", "last", "short"),
    [("Jane", "Austen", "J. Austen"), ("", "Austen", "Austen"), ("Cher", "", "Cher")],
)
def test_the_short_name_keeps_the_last_name(first, last, short):
    assert short_name(first, last) == short


# --- the day view side by side and the current-time line -----------------------------------


def test_the_day_view_has_one_column_per_practitioner_with_where_a_drop_goes(
    front_desk, practitioner_profile, therapist_profile
):
    html = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    for person in (practitioner_profile, therapist_profile):
        assert f'data-day="{DAY}" data-practitioner="{person.pk}" data-room=""' in html


def test_the_day_view_by_rooms_has_one_column_per_room(
    front_desk, practitioner_profile, room, room2
):
    html = front_desk.get(URL, {"view": "day", "date": DAY, "by": "rooms"}).content.decode()
    for r in (room, room2):
        assert f'data-day="{DAY}" data-practitioner="" data-room="{r.pk}"' in html


def test_the_week_view_headers_say_where_a_drop_goes_and_mark_today(
    front_desk, practitioner_profile
):
    # The week of Monday 23 March (today): one column a day, all the practitioner's.
    html = front_desk.get(
        URL, {"view": "week", "date": DAY, "practitioner": practitioner_profile.pk}
    ).content.decode()
    for n in range(23, 30):
        day = f"2026-03-{n}"
        assert (
            f'data-day="{day}" data-practitioner="{practitioner_profile.pk}" data-room=""' in html
        )
    assert 'data-today="2026-03-23"' in html
    assert "cal-on-today" in html


def test_today_carries_the_clinic_zone_for_the_current_time_line(front_desk, practitioner_profile):
    html = front_desk.get(URL, {"view": "day", "date": "2026-03-23"}).content.decode()
    assert 'data-today="2026-03-23" data-zone="Europe/London"' in html
    assert 'tr data-at="09:00"' in html
    assert "cal-on-today" in html
    other = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    assert "data-today" not in other
    assert "cal-on-today" not in other


def test_the_calendar_page_loads_its_script_and_a_live_region(front_desk, practitioner_profile):
    html = front_desk.get(URL, {"view": "day", "date": DAY}).content.decode()
    assert "js/calendar.js" in html
    assert 'id="calendar-status"' in html


@pytest.mark.parametrize("by", ["practitioners", "rooms"])
def test_the_side_by_side_day_view_query_count_does_not_grow_with_sessions(
    front_desk, clinic, by, django_assert_max_num_queries
):
    practitioners = [StaffProfileFactory(user=UserFactory(first_name=f"P{i}")) for i in range(10)]
    rooms = [RoomFactory(name=f"Room {i}") for i in range(10)]
    params = {"view": "day", "date": DAY, "by": by}
    _fill(2, practitioners, rooms, dt.date(2026, 3, 24))
    # 17: the grid's reads plus the availability engine's 5 (treatments/availability.py).
    with django_assert_max_num_queries(17) as small:
        assert front_desk.get(URL, params).status_code == 200
    Session.objects.all().delete()
    _fill(250, practitioners, rooms, dt.date(2026, 3, 24))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = front_desk.get(URL, params)
    assert len(response.context["page"].columns) == 10
    assert response.context["page"].session_count > 200


# --- dropping a session ---------------------------------------------------------------------


def test_dropping_a_session_on_a_free_time_moves_it(front_desk, austen, front_desk_user):
    response = front_desk.post(drop_url(austen), {"date": DAY, "time": "14:15"})
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert "Moved Jane Austen's session to Tue 24 Mar at 14:15" in response.json()["message"]
    austen.refresh_from_db()
    assert austen.starts_at == local(24, 14, 15)
    assert austen.ends_at == local(24, 15)


def test_dropping_a_session_in_another_practitioners_column_moves_it_to_them(
    front_desk, austen, therapist_profile, scalp_superficial
):
    austen.session_type = scalp_superficial
    austen.save()
    response = front_desk.post(
        drop_url(austen), {"date": DAY, "time": "11:00", "practitioner": therapist_profile.pk}
    )
    assert response.json()["ok"] is True
    austen.refresh_from_db()
    assert (austen.practitioner, austen.starts_at) == (therapist_profile, local(24, 11))


def test_dropping_a_session_in_another_rooms_column_moves_it_there(front_desk, austen, room2):
    response = front_desk.post(drop_url(austen), {"date": DAY, "time": "10:00", "room": room2.pk})
    assert response.json()["ok"] is True
    austen.refresh_from_db()
    assert austen.room == room2


def test_dropping_onto_another_session_is_refused_with_the_reason_and_nothing_moves(
    front_desk, austen, practitioner_profile, room, face
):
    SessionFactory(
        practitioner=practitioner_profile, room=room, session_type=face, starts_at=local(24, 12)
    )
    response = front_desk.post(drop_url(austen), {"date": DAY, "time": "12:00"})
    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert "Ada Doctor is already booked from 12:00 to 13:00" in response.json()["error"]
    austen.refresh_from_db()
    assert austen.starts_at == local(24, 10)


def test_dropping_outside_working_hours_is_refused_with_the_reason(
    front_desk, austen, practitioner_profile
):
    WorkingHours.objects.filter(staff=practitioner_profile).update(ends=dt.time(17))
    response = front_desk.post(drop_url(austen), {"date": DAY, "time": "16:45"})
    assert response.status_code == 409
    assert "is not working from 17:00" in response.json()["error"]
    austen.refresh_from_db()
    assert austen.starts_at == local(24, 10)


def test_dropping_into_the_past_is_refused(front_desk, austen):
    response = front_desk.post(drop_url(austen), {"date": "2026-03-23", "time": "08:00"})
    assert response.status_code == 409
    assert "in the past" in response.json()["error"]


def test_a_session_that_is_no_longer_booked_cannot_be_dropped(front_desk, austen):
    Session.objects.filter(pk=austen.pk).update(status=Session.Status.ARRIVED)
    response = front_desk.post(drop_url(austen), {"date": DAY, "time": "14:00"})
    assert response.status_code == 409
    assert "Only a booked session can be moved" in response.json()["error"]


@pytest.mark.parametrize(
    "data",
    [{}, {"date": DAY}, {"date": "nope", "time": "10:00"}, {"date": DAY, "time": "10:07"}],
)
def test_a_malformed_drop_is_refused_with_a_message_and_nothing_moves(front_desk, austen, data):
    response = front_desk.post(drop_url(austen), data)
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["error"]
    austen.refresh_from_db()
    assert austen.starts_at == local(24, 10)


def test_a_drop_changes_the_calendar_at_once(front_desk, austen):
    before = front_desk.get(URL, {"view": "day", "date": DAY}).context["page"]
    assert before.rows[[r.label for r in before.rows].index("10:00")].cells[0].session == austen
    front_desk.post(drop_url(austen), {"date": DAY, "time": "15:00"})
    after = front_desk.get(URL, {"view": "day", "date": DAY}).context["page"]
    assert after.rows[[r.label for r in after.rows].index("15:00")].cells[0].session == austen
