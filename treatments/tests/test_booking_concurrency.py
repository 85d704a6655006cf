"""Races, with real separate PostgreSQL connections: one thread, one connection, one booking.

50 front-desk requests for the same slot at the same instant must give exactly one session and
49 clear "slot taken" answers, never an error. The exclusion constraints are tested on their own
too, since they are the backstop should any code path ever skip the service's lock.
"""

import datetime as dt
import itertools
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from mesoclinic.errors import SlotTaken
from patients.tests.factories import PatientFactory
from treatments.clinic_time import local_to_utc
from treatments.models import Session
from treatments.services import booking
from treatments.services.booking import session_book, session_reschedule
from treatments.tests.factories import (
    RoomFactory,
    SessionFactory,
    SessionTypeFactory,
    StaffProfileFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
START = local_to_utc(dt.datetime(2031, 6, 3, 10, 0), LONDON)  # a Tuesday, far ahead


def race(calls):
    """Run every call at once, each in its own thread (so its own DB connection)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # every outcome is asserted below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_bookings_for_one_practitioner_slot_give_exactly_one(
    practitioner_profile, room, room2, face
):
    patients = PatientFactory.create_batch(50)
    rooms = [room, room2]

    calls = [
        (
            lambda p=p, i=i: session_book(
                patient=p,
                session_type=face,
                practitioner=practitioner_profile,
                room=rooms[i % 2],
                starts_at=START + dt.timedelta(minutes=i % 3 * 5),
            )
        )
        for i, p in enumerate(patients)
    ]
    outcomes = race(calls)

    booked = [o for o in outcomes if isinstance(o, Session)]
    taken = [o for o in outcomes if isinstance(o, SlotTaken)]
    others = [o for o in outcomes if not isinstance(o, Session | SlotTaken)]
    assert others == []
    assert (len(booked), len(taken)) == (1, 49)
    # Every refusal came from the check under the lock (it names who holds the slot), not
    # from the constraint backstop: the lock serialises the race.
    assert all("is already booked from" in o.message for o in taken)
    assert Session.objects.filter(practitioner=practitioner_profile).count() == 1


def test_fifty_bookings_for_one_room_shared_by_two_practitioners_give_exactly_one(
    practitioner_profile, room, face
):
    colleague = StaffProfileFactory()
    patients = PatientFactory.create_batch(50)
    staff = [practitioner_profile, colleague]

    calls = [
        (
            lambda p=p, i=i: session_book(
                patient=p,
                session_type=face,
                practitioner=staff[i % 2],
                room=room,
                starts_at=START,
            )
        )
        for i, p in enumerate(patients)
    ]
    outcomes = race(calls)

    assert [o for o in outcomes if not isinstance(o, Session | SlotTaken)] == []
    assert sum(isinstance(o, Session) for o in outcomes) == 1
    assert sum(isinstance(o, SlotTaken) for o in outcomes) == 49
    assert Session.objects.filter(room=room).count() == 1


def test_crossing_reschedules_never_deadlock_or_overlap(practitioner_profile, room, room2, face):
    # A moves into B's room while B moves into A's: locks are taken in one fixed order.
    colleague = StaffProfileFactory()
    a = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=START,
    )
    b = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=colleague,
        room=room2,
        starts_at=START + dt.timedelta(hours=2),
    )
    outcomes = race(
        [
            lambda: session_reschedule(
                session=a, starts_at=START + dt.timedelta(hours=2), room=room2
            ),
            lambda: session_reschedule(session=b, starts_at=START, room=room),
        ]
    )
    assert [o for o in outcomes if not isinstance(o, Session | SlotTaken)] == []
    rows = list(Session.objects.filter(status="booked").order_by("starts_at"))
    for first, second in itertools.combinations(rows, 2):
        if first.room_id == second.room_id or first.practitioner_id == second.practitioner_id:
            assert first.blocked_until <= second.starts_at


@pytest.mark.parametrize(
    ("offset_minutes", "same"),
    [(0, "practitioner"), (30, "practitioner"), (-30, "room"), (50, "room")],
)
def test_the_database_itself_refuses_overlapping_rows(
    practitioner_profile, room, room2, face, offset_minutes, same
):
    SessionFactory(practitioner=practitioner_profile, room=room, session_type=face, starts_at=START)
    other = StaffProfileFactory() if same == "room" else practitioner_profile
    other_room = room if same == "room" else room2
    with pytest.raises(IntegrityError, match="session_no_overlap"), transaction.atomic():
        SessionFactory(
            practitioner=other,
            room=other_room,
            session_type=face,
            starts_at=START + dt.timedelta(minutes=offset_minutes),
        )


def test_the_database_allows_adjacent_and_inactive_rows(practitioner_profile, room, face):
    SessionFactory(practitioner=practitioner_profile, room=room, session_type=face, starts_at=START)
    # Adjacent: the first holds [10:00, 11:00); half-open ranges touch without overlapping.
    SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=START + dt.timedelta(hours=1),
    )
    for status in ("cancelled", "no_show"):
        SessionFactory(
            practitioner=practitioner_profile,
            room=room,
            session_type=face,
            starts_at=START,
            status=status,
        )
    assert Session.objects.count() == 4


def test_a_race_past_the_check_still_gets_the_clear_message(practitioner_profile, room, face):
    # Simulates a writer that bypassed the service: the constraint fires inside session_book
    # and the desk still sees "slot taken", not an error page.
    other_type = SessionTypeFactory(name="Other", duration_minutes=30, buffer_minutes=0)
    SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=other_type,
        starts_at=START,
        status="booked",
    )
    original = booking._raise_if_taken
    booking._raise_if_taken = lambda **kwargs: None
    try:
        with pytest.raises(SlotTaken, match="just taken"):
            session_book(
                patient=PatientFactory(),
                session_type=face,
                practitioner=practitioner_profile,
                room=room,
                starts_at=START,
            )
    finally:
        booking._raise_if_taken = original
    assert Session.objects.count() == 1


def test_fifty_desks_posting_the_same_slot_get_one_booking_and_no_server_error(
    practitioner_profile, room, face, front_desk_user
):
    # Through the real view and form: each thread is its own logged-in desk with its own
    # database connection. One gets the redirect; 49 get the form back with the message.
    from django.test import Client

    patients = PatientFactory.create_batch(50)
    local = START.astimezone(LONDON)

    def post(patient):
        client = Client(raise_request_exception=False)
        client.force_login(front_desk_user)
        return client.post(
            "/sessions/new/",
            {
                "patient": patient.pk,
                "session_type": face.pk,
                "practitioner": practitioner_profile.pk,
                "room": room.pk,
                "date": local.strftime("%Y-%m-%d"),
                "time": local.strftime("%H:%M"),
                "notes": "",
            },
        )

    responses = race([lambda p=p: post(p) for p in patients])

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 49 + [302]
    refused = [r for r in responses if r.status_code == 200]
    assert all(b"That slot was just taken" in r.content for r in refused)
    assert Session.objects.count() == 1


def test_the_database_refuses_a_slot_held_longer_than_a_day(practitioner_profile, room, face):
    # The calendar and conflict queries look back one day from the range start (selectors).
    with pytest.raises(IntegrityError, match="session_slot_at_most_one_day"), transaction.atomic():
        SessionFactory(
            practitioner=practitioner_profile,
            room=room,
            session_type=face,
            starts_at=START,
            blocked_until=START + dt.timedelta(days=1, minutes=1),
        )


def test_fifty_bookings_of_one_patient_with_fifty_practitioners_give_exactly_one(face):
    # Fifty desks book the same patient at the same instant, each with another practitioner
    # and room: only the patient is shared. The patient row lock serialises them.
    patient = PatientFactory(first_name="Jane", last_name="Doe")
    staff = StaffProfileFactory.create_batch(50)
    rooms = [RoomFactory(name=f"Room {i}") for i in range(50)]
    calls = [
        (
            lambda i=i: session_book(
                patient=patient,
                session_type=face,
                practitioner=staff[i],
                room=rooms[i],
                starts_at=START + dt.timedelta(minutes=i % 3 * 5),
            )
        )
        for i in range(50)
    ]
    outcomes = race(calls)

    booked = [o for o in outcomes if isinstance(o, Session)]
    taken = [o for o in outcomes if isinstance(o, SlotTaken)]
    assert [o for o in outcomes if not isinstance(o, Session | SlotTaken)] == []
    assert (len(booked), len(taken)) == (1, 49)
    winner = booked[0]
    start = winner.starts_at.astimezone(LONDON)
    end = winner.ends_at.astimezone(LONDON)
    # Readable, from the check under the lock, naming the other booking's time and practitioner.
    expected = (
        f"Jane Doe is already booked from {start:%H:%M} to {end:%H:%M} with {winner.practitioner}"
    )
    assert all(expected in o.message for o in taken)
    assert Session.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize(
    ("clash", "words"),
    [
        ("patient", "the patient already has another session"),
        ("practitioner", "the practitioner was just booked"),
        ("room", "the room was just booked"),
    ],
)
def test_the_backstop_message_names_the_constraint_that_fired(
    practitioner_profile, room, room2, face, clash, words
):
    # A writer that skipped the check under the lock: the 23P01 is mapped by constraint name.
    patient = PatientFactory()
    SessionFactory(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=START,
    )
    original = booking._raise_if_taken
    booking._raise_if_taken = lambda **kwargs: None
    try:
        with pytest.raises(SlotTaken, match=words):
            session_book(
                patient=patient if clash == "patient" else PatientFactory(),
                session_type=face,
                practitioner=practitioner_profile
                if clash == "practitioner"
                else (StaffProfileFactory()),
                room=room if clash == "room" else room2,
                starts_at=START,
            )
    finally:
        booking._raise_if_taken = original
    assert Session.objects.count() == 1


def test_the_database_refuses_one_patient_in_two_overlapping_sessions_but_not_the_buffer(
    practitioner_profile, room, room2, face
):
    patient = PatientFactory()
    SessionFactory(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=START,
    )
    other = StaffProfileFactory()
    with pytest.raises(IntegrityError, match="session_no_overlap_patient"), transaction.atomic():
        SessionFactory(
            patient=patient,
            practitioner=other,
            room=room2,
            session_type=face,
            starts_at=START + dt.timedelta(minutes=30),
        )
    # Face lasts 45 min then a 15 min buffer: from 10:45 the patient is free, the room is not.
    SessionFactory(
        patient=patient,
        practitioner=other,
        room=room2,
        session_type=face,
        starts_at=START + dt.timedelta(minutes=45),
    )
    assert Session.objects.filter(patient=patient).count() == 2
