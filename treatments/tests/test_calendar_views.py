"""The front-desk calendar: who may see it, what it shows, DST weeks, flat query counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.models import Session, SessionType
from treatments.tests.factories import (
    RoomFactory,
    SessionFactory,
    StaffProfileFactory,
    UserFactory,
)

LONDON = ZoneInfo("Europe/London")
URL = reverse("treatments:calendar")
# Friday 20 March 2026, 09:00 in London (GMT): the week after contains the spring-forward.
NOW = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(y, m, d, hh, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON)


def book(practitioner, room, session_type, starts_at, **kwargs) -> Session:
    return SessionFactory.create(
        practitioner=practitioner,
        room=room,
        session_type=session_type,
        starts_at=starts_at,
        **kwargs,
    )


def page_of(response):
    return response.context["page"]


def cell_at(page, at: dt.time, col: int):
    row = next(r for r in page.rows if r.at == at)
    return row.cells[col]


# --- who may see it (the 403s and the login page: tests/test_access.py) ------------------


@pytest.mark.parametrize("persona", ["front_desk", "practitioner", "therapist", "manager"])
def test_it_shows_the_calendar_to_every_booking_role(persona, request):
    client = request.getfixturevalue(persona)
    response = client.get(URL)
    assert response.status_code == 200
    assert b'id="calendar"' in response.content


# --- what it shows ----------------------------------------------------------------------


def test_the_default_is_this_week_for_the_first_practitioner(
    front_desk, practitioner_profile, therapist_profile
):
    page = page_of(front_desk.get(URL))
    assert page.view == "week"
    assert [c.day for c in page.columns] == [
        dt.date(2026, 3, 16) + dt.timedelta(d) for d in range(7)
    ]
    # Staff are ordered by first name: Ada Doctor before Tess Therapist.
    assert {c.practitioner for c in page.columns} == {practitioner_profile}
    assert page.columns[4].is_today


def test_a_practitioner_sees_their_own_week_first(
    therapist, practitioner_profile, therapist_profile
):
    page = page_of(therapist.get(URL))
    assert {c.practitioner for c in page.columns} == {therapist_profile}


def test_the_day_view_shows_every_bookable_practitioner_side_by_side(
    front_desk, practitioner_profile, therapist_profile, front_desk_user
):
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-03-23"}))
    assert [c.practitioner for c in page.columns] == [practitioner_profile, therapist_profile]
    assert {c.day for c in page.columns} == {dt.date(2026, 3, 23)}


def test_the_day_view_can_show_rooms_side_by_side(front_desk, room, room2, practitioner_profile):
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-03-23", "by": "rooms"}))
    assert [c.room for c in page.columns] == [room, room2]


def test_the_week_view_shows_one_room_when_asked(
    front_desk, room, room2, practitioner_profile, face
):
    book(practitioner_profile, room2, face, local(2026, 3, 24, 11))
    response = front_desk.get(
        URL, {"date": "2026-03-24", "room": room2.pk, "session_type": face.pk}
    )
    page = page_of(response)
    assert {c.room for c in page.columns} == {room2}
    assert cell_at(page, dt.time(11), 1).kind == "session"
    link = cell_at(page, dt.time(9), 1).book_url
    # A room's free slot comes with the practitioner free then and the session type.
    assert parse_qs(urlsplit(link).query) == {
        "session_type": [str(face.pk)],
        "date": ["2026-03-24"],
        "time": ["09:00"],
        "practitioner": [str(practitioner_profile.pk)],
        "room": [str(room2.pk)],
    }
    # Face holds 60 min: 10:00 ends back to back with the 11:00 booking, 10:15 runs into it.
    assert cell_at(page, dt.time(10), 1).kind == "free"
    assert cell_at(page, dt.time(10, 15), 1).kind == "busy"


def test_it_shows_a_booked_session_with_patient_type_and_status(
    front_desk, practitioner_profile, room, face
):
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    session = book(practitioner_profile, room, face, local(2026, 3, 24, 10), patient=patient)
    response = front_desk.get(URL, {"date": "2026-03-24"})
    html = response.content.decode()
    assert "Jane Austen" in html
    assert f'id="session-{session.pk}"' in html
    assert reverse("treatments:session_detail", args=[session.pk]) in html
    assert ">Booked</span>" in html
    cell = cell_at(page_of(response), dt.time(10), 1)
    # 45 minutes plus a 15-minute buffer: four quarter hours held.
    assert (cell.kind, cell.session, cell.rowspan) == ("session", session, 4)
    assert cell_at(page_of(response), dt.time(11), 1).kind == "free"


def test_a_free_quarter_hour_links_to_the_prefilled_booking_form(
    front_desk, practitioner_profile, room, face
):
    page = page_of(front_desk.get(URL, {"date": "2026-03-24", "session_type": face.pk}))
    cell = cell_at(page, dt.time(14, 15), 1)
    assert cell.kind == "free"
    url = urlsplit(cell.book_url)
    assert url.path == reverse("treatments:session_create")
    assert parse_qs(url.query) == {
        "session_type": [str(face.pk)],
        "date": ["2026-03-24"],
        "time": ["14:15"],
        "practitioner": [str(practitioner_profile.pk)],
        "room": [str(room.pk)],
    }
    html = front_desk.get(URL, {"date": "2026-03-24"}).content.decode()  # type remembered
    assert cell.book_url.replace("&", "&amp;") in html


def test_cancelled_and_no_show_sessions_are_struck_through_and_free_their_slot(
    front_desk, practitioner_profile, room, face
):
    cancelled = book(
        practitioner_profile,
        room,
        face,
        local(2026, 3, 24, 10),
        patient=PatientFactory(first_name="Carl", last_name="Cancelled"),
        status=Session.Status.CANCELLED,
    )
    no_show = book(
        practitioner_profile,
        room,
        face,
        local(2026, 3, 24, 12),
        patient=PatientFactory(first_name="Nora", last_name="Noshow"),
        status=Session.Status.NO_SHOW,
    )
    response = front_desk.get(URL, {"date": "2026-03-24"})
    page = page_of(response)
    for session, at in ((cancelled, dt.time(10)), (no_show, dt.time(12))):
        cell = cell_at(page, at, 1)
        assert cell.kind == "free"
        assert cell.freed == [session]
    html = response.content.decode()
    assert "<s>10:00 Carl Cancelled</s> cancelled" in html
    assert "<s>12:00 Nora Noshow</s> no-show" in html


def test_time_already_gone_and_time_off_work_are_not_clickable(
    front_desk, practitioner_profile, room, face
):
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-03-20"}))
    # Now is 09:00 GMT on that Friday: 08:45 has gone, 09:15 can be booked.
    assert cell_at(page, dt.time(8, 45), 0).kind == "past"
    assert cell_at(page, dt.time(9, 15), 0).kind == "free"
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-03-23"}))
    assert page.rows[0].at == dt.time(8)
    assert page.rows[-1].at == dt.time(19, 45)


def test_leave_shows_as_not_working(front_desk, practitioner_profile, room, face):
    from treatments.models import WorkingException

    WorkingException.objects.create(
        staff=practitioner_profile, date=dt.date(2026, 3, 25), kind="leave"
    )
    page = page_of(front_desk.get(URL, {"date": "2026-03-25"}))
    assert {row.cells[2].kind for row in page.rows} == {"closed"}
    # Face needs 45 minutes: the last three quarter hours before 20:00 cannot hold it.
    kinds = [row.cells[1].kind for row in page.rows]
    assert set(kinds[:-3]) == {"free"} and set(kinds[-3:]) == {"busy"}


def test_prev_next_and_today_keep_the_view_and_the_practitioner(
    front_desk, practitioner_profile, therapist_profile
):
    page = page_of(
        front_desk.get(URL, {"date": "2026-04-08", "practitioner": therapist_profile.pk})
    )
    assert parse_qs(urlsplit(page.prev_url).query) == {
        "session_type": [str(page.session_type.pk)],
        "view": ["week"],
        "date": ["2026-04-01"],
        "practitioner": [str(therapist_profile.pk)],
    }
    assert parse_qs(urlsplit(page.next_url).query)["date"] == ["2026-04-15"]
    assert parse_qs(urlsplit(page.today_url).query)["date"] == ["2026-03-20"]
    day = page_of(front_desk.get(URL, {"view": "day", "date": "2026-04-08"}))
    assert parse_qs(urlsplit(day.next_url).query) == {
        "session_type": [str(page.session_type.pk)],
        "view": ["day"],
        "date": ["2026-04-09"],
    }


def test_switching_to_a_day_keeps_a_chosen_practitioner_but_not_the_default_one(
    front_desk, practitioner_profile, therapist_profile
):
    default = page_of(front_desk.get(URL, {"date": "2026-03-24"}))
    assert parse_qs(urlsplit(default.view_urls["day"]).query) == {
        "session_type": [str(default.session_type.pk)],
        "view": ["day"],
        "date": ["2026-03-24"],
    }
    assert parse_qs(urlsplit(default.columns[2].url).query)["date"] == ["2026-03-25"]
    assert "practitioner" not in parse_qs(urlsplit(default.columns[2].url).query)
    chosen = page_of(
        front_desk.get(URL, {"date": "2026-03-24", "practitioner": therapist_profile.pk})
    )
    assert parse_qs(urlsplit(chosen.view_urls["day"]).query)["practitioner"] == [
        str(therapist_profile.pk)
    ]


def test_htmx_navigation_gets_just_the_calendar(front_desk, practitioner_profile):
    response = front_desk.get(URL, {"date": "2026-03-24"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="calendar"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]
    restore = front_desk.get(
        URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-02-30"},
        {"date": "not a date"},
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"view": "month"},
        {"practitioner": "abc"},
        {"practitioner": "99999999"},
        {"practitioner": "9" * 10_000},
        {"room": "-1"},
        {"by": "<script>alert(1)</script>"},
        {"date": "2026-03-24\x00"},
    ],
)
def test_it_ignores_a_bad_address_with_a_notice_rather_than_failing(
    front_desk, practitioner_profile, params
):
    response = front_desk.get(URL, params)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    page = page_of(response)
    assert page.columns
    assert response.context["query_errors"] or page.notices


def test_it_says_so_when_nobody_can_be_booked(front_desk):
    response = front_desk.get(URL)
    assert response.status_code == 200
    assert "Nobody can be booked yet" in response.content.decode()


# --- daylight saving time ---------------------------------------------------------------


def test_a_spring_forward_week_places_sessions_by_local_wall_time(
    front_desk, practitioner_profile, room, face
):
    # Clocks go forward at 01:00 GMT on Sunday 29 March 2026: that day has 23 hours.
    monday = book(practitioner_profile, room, face, local(2026, 3, 23, 10))
    sunday = book(practitioner_profile, room, face, local(2026, 3, 29, 10))
    assert sunday.starts_at.astimezone(dt.UTC).hour == 9
    page = page_of(front_desk.get(URL, {"date": "2026-03-25", "session_type": face.pk}))
    assert cell_at(page, dt.time(10), 0).session == monday
    assert cell_at(page, dt.time(10), 6).session == sunday
    assert cell_at(page, dt.time(9), 6).kind == "free"
    # Working hours 08:00-20:00 local on both days: same rows, and Sunday's 08:00 is 07:00 UTC.
    assert page.rows[0].at == dt.time(8)
    assert cell_at(page, dt.time(8), 6).kind == "free"
    assert cell_at(page, dt.time(19, 15), 6).kind == "free"
    assert cell_at(page, dt.time(19, 30), 6).kind == "busy"
    link = parse_qs(urlsplit(cell_at(page, dt.time(8), 6).book_url).query)
    assert (link["date"], link["time"]) == (["2026-03-29"], ["08:00"])


def test_a_fall_back_week_places_sessions_by_local_wall_time(
    front_desk, practitioner_profile, room, face
):
    # Clocks go back at 02:00 BST on Sunday 25 October 2026: that day has 25 hours.
    saturday = book(practitioner_profile, room, face, local(2026, 10, 24, 10))
    sunday = book(practitioner_profile, room, face, local(2026, 10, 25, 10))
    assert (
        saturday.starts_at.astimezone(dt.UTC).hour == 9
        and sunday.starts_at.astimezone(dt.UTC).hour == 10
    )
    page = page_of(front_desk.get(URL, {"date": "2026-10-25"}))
    assert cell_at(page, dt.time(10), 5).session == saturday
    assert cell_at(page, dt.time(10), 6).session == sunday
    assert page.rows[-1].at == dt.time(19, 45)


def test_the_night_of_the_change_shows_the_missing_hour_and_the_repeated_one(
    front_desk, practitioner_profile, room, face
):
    from treatments.models import WorkingException

    # Extra night hours on both change days make the grid reach 00:00-04:00.
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        WorkingException.objects.create(
            staff=practitioner_profile, date=day, kind="extra", starts=dt.time(0), ends=dt.time(4)
        )
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-03-29"}))
    assert cell_at(page, dt.time(1, 30), 0).kind == "gap"
    assert cell_at(page, dt.time(2, 0), 0).kind == "free"
    page = page_of(front_desk.get(URL, {"view": "day", "date": "2026-10-25"}))
    assert cell_at(page, dt.time(1, 30), 0).kind == "free"
    # The repeated 01:30 books its first occurrence (still summer time).
    link = parse_qs(urlsplit(cell_at(page, dt.time(1, 30), 0).book_url).query)
    assert link["time"] == ["01:30"]


# --- query counts -----------------------------------------------------------------------


def _fill(n: int, practitioners, rooms, first_day: dt.date) -> None:
    """n sessions across the practitioners and days, none overlapping for a person or room."""
    session_type, _ = SessionType.objects.get_or_create(
        name="Quick", defaults={"duration_minutes": 30, "buffer_minutes": 0}
    )
    # One patient per practitioner: a patient is never in two sessions at once (0006).
    patients = PatientFactory.create_batch(len(practitioners))
    sessions = []
    slots_per_day = 30  # 06:00-21:00 in half hours
    for i in range(n):
        person = i % len(practitioners)
        slot = i // len(practitioners)
        day = first_day + dt.timedelta(days=slot // slots_per_day)
        starts_at = local(day.year, day.month, day.day, 6) + dt.timedelta(
            minutes=30 * (slot % slots_per_day)
        )
        sessions.append(
            Session(
                patient=patients[person],
                session_type=session_type,
                practitioner=practitioners[person],
                room=rooms[person],
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=30),
                blocked_until=starts_at + dt.timedelta(minutes=30),
                status=Session.Status.CANCELLED if i % 7 == 3 else Session.Status.BOOKED,
            )
        )
    Session.objects.bulk_create(sessions)


@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_query_count_does_not_grow_with_sessions(
    front_desk, clinic, view, django_assert_max_num_queries
):
    practitioners = [StaffProfileFactory(user=UserFactory(first_name=f"P{i}")) for i in range(10)]
    rooms = [RoomFactory(name=f"Room {i}") for i in range(10)]
    # The week view shows one practitioner: all 200 go to them, over the whole week.
    shown = practitioners if view == "day" else practitioners[:1]
    params = {"view": view, "date": "2026-03-23"}
    if view == "week":
        params["practitioner"] = practitioners[0].pk

    _fill(1, shown, rooms, dt.date(2026, 3, 23))
    # 17: the page's reads plus the free slots for the session type (availability, held slots).
    with django_assert_max_num_queries(17) as one:
        assert front_desk.get(URL, params).status_code == 200
    Session.objects.all().delete()
    _fill(200, shown, rooms, dt.date(2026, 3, 23))
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = front_desk.get(URL, params)
    assert response.context["page"].session_count > 150


# --- free slots for a session type ------------------------------------------------------


def test_only_starts_where_the_session_type_fits_are_offered(
    front_desk, practitioner_profile, room, face, scalp_superficial
):
    # Booked 11:00-11:45, clean-up until 12:00. Face holds 60 min, Scalp 40 min.
    book(practitioner_profile, room, face, local(2026, 3, 24, 11))
    params = {"view": "day", "date": "2026-03-24"}
    page = page_of(front_desk.get(URL, {**params, "session_type": face.pk}))
    assert cell_at(page, dt.time(10), 0).kind == "free"
    assert cell_at(page, dt.time(10, 15), 0).kind == "busy"
    assert "does not fit" in cell_at(page, dt.time(10, 15), 0).label
    page = page_of(front_desk.get(URL, {**params, "session_type": scalp_superficial.pk}))
    assert cell_at(page, dt.time(10, 15), 0).kind == "free"
    assert cell_at(page, dt.time(10, 30), 0).kind == "busy"


def test_the_session_type_is_remembered_for_the_desk(front_desk, practitioner_profile, room, face):
    front_desk.get(URL, {"session_type": face.pk})
    assert page_of(front_desk.get(URL)).session_type == face


def test_a_session_type_no_longer_offered_falls_back_with_a_notice(
    front_desk, practitioner_profile, room, face
):
    face.active = False
    face.save()
    page = page_of(front_desk.get(URL, {"session_type": face.pk}))
    assert page.session_type != face
    assert any("no longer offered" in n for n in page.notices)


def test_two_session_types_are_two_cached_grids(front_desk, practitioner_profile, room, face):
    quick = SessionType.objects.create(name="A quick one", duration_minutes=30, buffer_minutes=0)
    book(practitioner_profile, room, face, local(2026, 3, 24, 11))
    params = {"view": "day", "date": "2026-03-24"}
    for _ in range(2):
        long = page_of(front_desk.get(URL, {**params, "session_type": face.pk}))
        short = page_of(front_desk.get(URL, {**params, "session_type": quick.pk}))
        assert cell_at(long, dt.time(10, 15), 0).kind == "busy"
        assert cell_at(short, dt.time(10, 15), 0).kind == "free"


def test_next_available_lists_the_nearest_offered_starts(
    front_desk, practitioner_profile, room, face
):
    # Now is Friday 20 March 09:00; 09:15 would run into the 09:30 booking, so 10:30 is first.
    book(practitioner_profile, room, face, local(2026, 3, 20, 9, 30))
    response = front_desk.get(
        reverse("treatments:next_available"),
        {"session_type": face.pk, "practitioner": practitioner_profile.pk},
    )
    slots = response.context["slots"]
    assert [s.local.time() for s in slots[:2]] == [dt.time(10, 30), dt.time(10, 45)]
    assert len(slots) == 12
    html = response.content.decode()
    assert (
        f"?session_type={face.pk}&amp;practitioner={practitioner_profile.pk}"
        f"&amp;room={room.pk}&amp;date=2026-03-20&amp;time=10%3A30"
    ) in html


def test_next_available_for_any_practitioner_offers_whoever_is_free_soonest(
    front_desk, practitioner_profile, room, room2, face
):
    # The doctor is held 09:30-11:30 in room 1; Ben Other is free, and room 2 is.
    book(practitioner_profile, room, face, local(2026, 3, 20, 9, 30))
    book(practitioner_profile, room, face, local(2026, 3, 20, 10, 30))
    ben = StaffProfileFactory(user=UserFactory(first_name="Ben", last_name="Other"))
    response = front_desk.get(reverse("treatments:next_available"), {"session_type": face.pk})
    slots = response.context["slots"]
    assert len(slots) == 12
    assert [s.local for s in slots] == sorted(s.local for s in slots)
    first = slots[0]
    assert (first.local.time(), first.practitioner, first.room) == (dt.time(9, 15), ben, room2)
    doctor_times = [s.local.time() for s in slots if s.practitioner == practitioner_profile]
    assert dt.time(9, 15) not in doctor_times  # 09:15 + 60 min runs into the 09:30 booking
    assert min(doctor_times) == dt.time(11, 30)
