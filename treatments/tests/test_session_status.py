"""Status changes that explain themselves: what shows when, confirmations, undo the same day.

The clock is frozen (time_machine) on the clinic's day, Europe/London (GMT in March).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical.models import SessionRecord
from treatments.models import Session
from treatments.tests.factories import SessionFactory

LONDON = ZoneInfo("Europe/London")


def local(d: int, hh: int, mm: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, d, hh, mm, tzinfo=LONDON)


@pytest.fixture
def session(practitioner_profile, room, face) -> Session:
    """Friday 20 March 2026, 10:00-10:45."""
    return SessionFactory.create(
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(20, 10),
    )


def page(client: Client, session: Session) -> str:
    return client.get(reverse("treatments:session_detail", args=[session.pk])).content.decode()


def post(client: Client, session: Session, action: str, **extra: str):
    url = reverse("treatments:session_status", args=[session.pk])
    return client.post(url, {"action": action, **extra})


def button(action: str) -> str:
    return f'data-status-action="{action}"'


def reason(action: str) -> str:
    return f'data-status-reason="{action}"'


def test_before_the_start_the_page_says_when_complete_and_no_show_become_possible(
    front_desk, session
):
    with time_machine.travel(local(20, 9, 30), tick=False):
        html = page(front_desk, session)
    assert button("arrived") in html
    assert button("completed") not in html and button("no_show") not in html
    assert reason("completed") in html and reason("no_show") in html
    assert "Available from 10:00, when the session starts." in html


def test_from_the_start_complete_and_no_show_are_offered(front_desk, session):
    with time_machine.travel(local(20, 10), tick=False):
        html = page(front_desk, session)
    assert button("completed") in html and button("no_show") in html
    assert "when the session starts" not in html


def test_days_ahead_the_page_says_the_day_check_in_opens(front_desk, session):
    with time_machine.travel(local(18, 9), tick=False):
        html = page(front_desk, session)
    assert button("arrived") not in html
    assert "Check-in opens on Fri 20 Mar, the day of the session." in html
    assert "Available from Fri 20 Mar at 10:00, when the session starts." in html


def test_a_no_show_is_asked_for_confirmation_before_it_happens(front_desk, session):
    with time_machine.travel(local(20, 10, 20), tick=False):
        asked = post(front_desk, session, "no_show")
        session.refresh_from_db()
        assert asked.status_code == 200
        assert "Yes, mark no-show" in asked.content.decode()
        assert session.status == Session.Status.BOOKED
        assert post(front_desk, session, "no_show", confirm="on").status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.NO_SHOW


def test_a_no_show_before_the_start_is_refused_without_asking(front_desk, session):
    with time_machine.travel(local(20, 9), tick=False):
        response = post(front_desk, session, "no_show")
    assert "once its start time has passed" in response.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_the_desk_undoes_a_check_in_the_same_day_and_it_is_audited(front_desk, session):
    with time_machine.travel(local(20, 9, 50), tick=False):
        post(front_desk, session, "arrived")
        assert button("undo_arrived") in page(front_desk, session)
        response = post(front_desk, session, "undo_arrived")
        assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED and session.arrived_at is None
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE, note="check-in undone")
    assert entry.object_id == session.pk and entry.patient_id == session.patient_id


def test_a_check_in_cannot_be_undone_the_next_day(front_desk, session):
    with time_machine.travel(local(20, 9, 50), tick=False):
        post(front_desk, session, "arrived")
    with time_machine.travel(local(21, 8, 5), tick=False):
        html = page(front_desk, session)
        assert button("undo_arrived") not in html
        assert "can only be undone on the day of the session (Fri 20 Mar)" in html
        refused = post(front_desk, session, "undo_arrived")
    assert refused.status_code == 200
    assert "can only be undone on the day of the session" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.ARRIVED
    assert not AuditEntry.objects.filter(note="check-in undone").exists()


def test_the_desk_undoes_a_no_show_the_same_day(front_desk, session):
    with time_machine.travel(local(20, 10, 30), tick=False):
        post(front_desk, session, "no_show", confirm="on")
        assert button("undo_no_show") in page(front_desk, session)
        assert post(front_desk, session, "undo_no_show").status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    assert AuditEntry.objects.filter(note="no-show undone", object_id=session.pk).count() == 1


def test_a_no_show_cannot_be_undone_the_next_day(front_desk, session):
    with time_machine.travel(local(20, 10, 30), tick=False):
        post(front_desk, session, "no_show", confirm="on")
    with time_machine.travel(local(21, 9), tick=False):
        assert button("undo_no_show") not in page(front_desk, session)
        refused = post(front_desk, session, "undo_no_show")
    assert "can only be undone on the day of the session" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.NO_SHOW


def test_a_no_show_whose_slot_was_booked_again_cannot_be_undone(
    front_desk, session, practitioner_profile, room2, face
):
    with time_machine.travel(local(20, 10, 5), tick=False):
        post(front_desk, session, "no_show", confirm="on")
        SessionFactory(
            practitioner=practitioner_profile,
            room=room2,
            session_type=face,
            starts_at=local(20, 10, 30),
        )
        refused = post(front_desk, session, "undo_no_show")
    assert "its time is booked again" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.NO_SHOW


def test_completing_without_a_signed_record_asks_and_flags_it_for_the_practitioner(
    front_desk, session
):
    with time_machine.travel(local(20, 10, 50), tick=False):
        asked = post(front_desk, session, "completed")
        assert "has no signed clinical record yet" in asked.content.decode()
        session.refresh_from_db()
        assert session.status == Session.Status.BOOKED and session.record_flagged_at is None
        done = post(front_desk, session, "completed", confirm="on")
    assert done.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert session.record_flagged_at == local(20, 10, 50)
    assert "data-record-flagged" in page(front_desk, session)


def test_completing_with_a_signed_record_is_not_asked_nor_flagged(
    front_desk, session, practitioner_profile
):
    SessionRecord.objects.create(
        session=session,
        patient=session.patient,
        author=practitioner_profile.user,
        technique="syringe",
        depth="superficial",
        signed_at=local(20, 10, 40),
        signed_by=practitioner_profile.user,
    )
    with time_machine.travel(local(20, 10, 50), tick=False):
        assert post(front_desk, session, "completed").status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED and session.record_flagged_at is None


# --- across a daylight-saving change: the clinic's day is its wall-clock day ---------------------


def sunday_session(practitioner_profile, room, face, starts_at: dt.datetime) -> Session:
    return SessionFactory.create(
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=starts_at,
    )


def test_after_the_clocks_go_forward_the_undo_ends_at_local_midnight_not_utc_midnight(
    front_desk, practitioner_profile, room, face
):
    # Sunday 29 March 2026: London moves to BST (UTC+1) at 01:00 UTC.
    session = sunday_session(practitioner_profile, room, face, local(29, 10))
    with time_machine.travel(local(29, 9, 50), tick=False):
        post(front_desk, session, "arrived")
    with time_machine.travel(local(29, 23, 30), tick=False):
        assert button("undo_arrived") in page(front_desk, session)
    # 00:30 BST on Monday is still 23:30 UTC on Sunday: the clinic's day is over.
    monday = local(30, 0, 30)
    assert monday.astimezone(dt.UTC).date() == dt.date(2026, 3, 29)
    with time_machine.travel(monday, tick=False):
        html = page(front_desk, session)
        refused = post(front_desk, session, "undo_arrived")
    assert button("undo_arrived") not in html
    assert "can only be undone on the day of the session (Sun 29 Mar)" in html
    assert "can only be undone on the day of the session" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.ARRIVED


def test_on_the_day_the_clocks_go_back_what_shows_when_follows_the_wall_clock(
    front_desk, practitioner_profile, room, face
):
    # Sunday 25 October 2026: London returns to GMT at 01:00 UTC; the session starts 10:00 GMT.
    session = sunday_session(practitioner_profile, room, face, local(25, 10, month=10))
    # 23:30 BST on Saturday is 22:30 UTC on Saturday: check-in opens on Sunday.
    with time_machine.travel(local(24, 23, 30, month=10), tick=False):
        saturday = page(front_desk, session)
    assert "Check-in opens on Sun 25 Oct, the day of the session." in saturday
    assert "Available from Sun 25 Oct at 10:00, when the session starts." in saturday
    with time_machine.travel(local(25, 9, 30, month=10), tick=False):
        html = page(front_desk, session)
    assert button("arrived") in html and button("no_show") not in html
    assert "Available from 10:00, when the session starts." in html
    with time_machine.travel(local(25, 10, month=10), tick=False):
        assert button("no_show") in page(front_desk, session)
        post(front_desk, session, "no_show", confirm="on")
    # 23:30 GMT, a 25-hour day: still the session's day, so the no-show can be undone.
    with time_machine.travel(local(25, 23, 30, month=10), tick=False):
        assert button("undo_no_show") in page(front_desk, session)
        assert post(front_desk, session, "undo_no_show").status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
