"""Same-day undo under real concurrency (PostgreSQL): two desks at once, an undo racing a
completion, an undo racing a booking of the same patient and practitioner.

Each thread is its own signed-in desk client (or service call) on its own connection. Exactly
one change wins; the other desk gets the session page back with a sentence it can act on, never
an error page; the trail has one entry per change made. An undo locks the rows a booking locks,
in the booking's order (patient, practitioner, room, then the session): the two never wait on
each other in a cycle, so neither is cut off by a deadlock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.models import Session
from treatments.services import status
from treatments.services.booking import session_book
from treatments.tests.factories import RoomFactory, SessionFactory, StaffProfileFactory

from .test_booking_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
DAY = dt.date(2031, 6, 3)  # a Tuesday


def local(hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hh, mm), tzinfo=LONDON)


@pytest.fixture
def desk_user(front_desk_user):
    return front_desk_user


def _session(practitioner, room, face, status_: str, patient=None) -> Session:
    return SessionFactory.create(
        patient=patient or PatientFactory(),
        practitioner=practitioner,
        room=room,
        session_type=face,
        starts_at=local(10),
        status=status_,
        arrived_at=local(9, 55) if status_ == Session.Status.ARRIVED else None,
    )


def _desk(user, session: Session, action: str, **extra: str):
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        url = reverse("treatments:session_status", args=[session.pk])
        return client.post(url, {"action": action, **extra})

    return post


def _readable(responses) -> tuple[list, list]:
    """(done, refused): every answer a redirect after the change or the page with why not."""
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert {r.status_code for r in responses} <= {200, 302}, [r.status_code for r in responses]
    return (
        [r for r in responses if r.status_code == 302],
        [r.content.decode() for r in responses if r.status_code == 200],
    )


def test_two_desks_undoing_one_check_in_undo_it_once(desk_user, practitioner_profile, room, face):
    session = _session(practitioner_profile, room, face, Session.Status.ARRIVED)
    with time_machine.travel(local(10, 5), tick=True):
        done, refused = _readable(race([_desk(desk_user, session, "undo_arrived")] * 2))
    assert len(done) == 1 and len(refused) == 1
    assert (
        "Only a checked-in session can have its check-in undone; this one is booked." in refused[0]
    )
    session.refresh_from_db()
    assert (session.status, session.arrived_at) == (Session.Status.BOOKED, None)
    assert AuditEntry.objects.filter(note="check-in undone", object_id=session.pk).count() == 1


def test_two_desks_undoing_one_no_show_undo_it_once(desk_user, practitioner_profile, room, face):
    session = _session(practitioner_profile, room, face, Session.Status.NO_SHOW)
    with time_machine.travel(local(10, 20), tick=True):
        done, refused = _readable(race([_desk(desk_user, session, "undo_no_show")] * 2))
    assert len(done) == 1 and len(refused) == 1
    assert "Only a no-show can be undone; this session is booked." in refused[0]
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    assert AuditEntry.objects.filter(note="no-show undone", object_id=session.pk).count() == 1


def test_an_undo_of_check_in_racing_a_completion_leaves_one_consistent_state(
    desk_user, practitioner_profile, room, face
):
    # Either order is right: undone then completed (a booked session may be completed), or
    # completed then the undo refused. Never an arrived session, never a 500.
    session = _session(practitioner_profile, room, face, Session.Status.ARRIVED)
    with time_machine.travel(local(10, 40), tick=True):
        responses = race(
            [
                _desk(desk_user, session, "undo_arrived"),
                _desk(desk_user, session, "completed", confirm="on"),
            ]
        )
    done, refused = _readable(responses)
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    undone = AuditEntry.objects.filter(note="check-in undone", object_id=session.pk).count()
    if refused:
        assert len(done) == 1 and undone == 0
        assert "this one is completed" in refused[0]
    else:
        assert len(done) == 2 and undone == 1
    flagged = AuditEntry.objects.filter(note="completed, record not signed", object_id=session.pk)
    assert flagged.count() == 1


def test_an_undo_of_no_show_racing_a_completion_leaves_one_consistent_state(
    desk_user, practitioner_profile, room, face
):
    session = _session(practitioner_profile, room, face, Session.Status.NO_SHOW)
    with time_machine.travel(local(10, 40), tick=True):
        responses = race(
            [
                _desk(desk_user, session, "undo_no_show"),
                _desk(desk_user, session, "completed", confirm="on"),
            ]
        )
    done, refused = _readable(responses)
    session.refresh_from_db()
    undone = AuditEntry.objects.filter(note="no-show undone", object_id=session.pk).count()
    if session.status == Session.Status.COMPLETED:
        # Undone first, then completed from booked.
        assert (len(done), undone) == (2, 1)
    else:
        # Completion came first and was refused (a no-show cannot be completed); then undone.
        assert session.status == Session.Status.BOOKED
        assert (len(done), len(refused), undone) == (1, 1, 1)
        assert "Cannot complete the session: the session is no-show." in refused[0]


ROUNDS = 12


def test_undoing_a_no_show_while_the_same_patient_is_booked_never_deadlocks(clinic, face):
    # The undo and the booking lock the same patient and practitioner rows. Taken in one order
    # by both, they queue; in two orders, PostgreSQL would cut one off with a deadlock error.
    outcomes = []
    with time_machine.travel(local(10, 20), tick=True):
        for i in range(ROUNDS):
            practitioner = StaffProfileFactory()
            own_room, other_room = RoomFactory(name=f"A{i}"), RoomFactory(name=f"B{i}")
            session = _session(practitioner, own_room, face, Session.Status.NO_SHOW)
            outcomes += race(
                [
                    lambda s=session: status.session_no_show_undo(session=s, by=None),
                    lambda s=session, p=practitioner, r=other_room: session_book(
                        patient=s.patient,
                        session_type=face,
                        practitioner=p,
                        room=r,
                        starts_at=local(12),
                    ),
                ]
            )
    assert [o for o in outcomes if not isinstance(o, Session)] == []
    assert Session.objects.filter(starts_at=local(12)).count() == ROUNDS
    assert AuditEntry.objects.filter(note="no-show undone").count() == ROUNDS


def test_undoing_a_no_show_while_its_patient_is_booked_into_its_time_gives_one_of_them(
    practitioner_profile, room, room2, face
):
    colleague = StaffProfileFactory()
    session = _session(practitioner_profile, room, face, Session.Status.NO_SHOW)
    with time_machine.travel(local(10, 20), tick=True):
        outcomes = race(
            [
                lambda: status.session_no_show_undo(session=session, by=None),
                lambda: session_book(
                    patient=session.patient,
                    session_type=face,
                    practitioner=colleague,
                    room=room2,
                    starts_at=local(10, 30),
                ),
            ]
        )
    undone, booked = outcomes
    assert [o for o in outcomes if not isinstance(o, Session | DomainError)] == []
    # The patient holds one active session at that time: exactly one of the two went through.
    assert isinstance(undone, Session) != isinstance(booked, Session), outcomes
    refusal = booked if isinstance(undone, Session) else undone
    assert "is already booked from" in refusal.message or "is booked again from" in refusal.message
    active = Session.objects.filter(patient=session.patient).exclude(status=Session.Status.NO_SHOW)
    assert active.count() == 1
