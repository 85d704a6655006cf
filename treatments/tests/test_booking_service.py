"""The booking service: overlaps, buffers, rules, and the clinic's time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mesoclinic.errors import InvalidTransition, LocalTimeError, NotBookable, SlotTaken
from patients.tests.factories import PatientFactory
from treatments.clinic_time import local_to_utc
from treatments.models import Session, WorkingException
from treatments.services.booking import (
    session_book,
    session_cancel,
    session_complete,
    session_mark_arrived,
    session_mark_no_show,
    session_reschedule,
)

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)  # Monday 08:00 in London (BST)
DAY = dt.date(2026, 6, 2)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return local_to_utc(dt.datetime.combine(day, dt.time(hour, minute)), LONDON)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def book(practitioner_profile, room, face):
    def _book(start, *, practitioner=None, room_=None, session_type=None, patient=None):
        return session_book(
            patient=patient or PatientFactory(),
            session_type=session_type or face,
            practitioner=practitioner or practitioner_profile,
            room=room_ or room,
            starts_at=start,
        )

    return _book


@pytest.mark.django_db
def test_it_books_a_session_with_end_and_buffer(book, face):
    session = book(at(10))
    assert session.status == Session.Status.BOOKED
    assert session.ends_at == at(10, 45)
    assert session.blocked_until == at(11)


# Existing session: 10:00-10:45, buffer until 11:00 (Face: 45 min + 15 min buffer).
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "hour", "minute"),
    [
        ("identical", 10, 0),
        ("starts inside", 10, 30),
        ("ends inside", 9, 30),
        ("inside the buffer", 10, 50),
        ("containing", 9, 15),  # 9:15-10:00 + buffer to 10:15 covers 10:00
    ],
)
def test_it_refuses_an_overlapping_slot(book, label, hour, minute):
    book(at(10))
    with pytest.raises(SlotTaken, match="just taken"):
        book(at(hour, minute))
    assert Session.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_slot_contained_in_a_longer_session(book, clinic):
    from treatments.tests.factories import SessionTypeFactory

    body = SessionTypeFactory(name="Body", duration_minutes=60, buffer_minutes=0)
    scalp = SessionTypeFactory(name="Scalp", duration_minutes=30, buffer_minutes=0)
    book(at(10), session_type=body)
    with pytest.raises(SlotTaken):
        book(at(10, 15), session_type=scalp)  # 10:15-10:45 inside 10:00-11:00


@pytest.mark.django_db
def test_it_allows_back_to_back_after_the_buffer(book):
    book(at(10))
    second = book(at(11))  # the first holds [10:00, 11:00): half-open, so 11:00 is free
    before = book(at(9))  # 9:00-9:45 + buffer to 10:00 ends exactly where the first starts
    assert {second.starts_at, before.starts_at} == {at(11), at(9)}


@pytest.mark.django_db
def test_a_zero_buffer_type_allows_the_next_session_at_its_end(book, clinic):
    from treatments.tests.factories import SessionTypeFactory

    quick = SessionTypeFactory(name="Quick", duration_minutes=30, buffer_minutes=0)
    book(at(10), session_type=quick)
    assert book(at(10, 30), session_type=quick).starts_at == at(10, 30)


@pytest.mark.django_db
def test_cancelled_frees_the_slot(book):
    session_cancel(session=book(at(10)), reason="Patient unwell")
    assert book(at(10)).status == Session.Status.BOOKED


@pytest.mark.django_db
def test_a_no_show_frees_the_rest_of_its_slot(book):
    today = NOW.date()
    missed = book(at(10, 0, today))  # holds 10:00-11:00
    with time_machine.travel(at(10, 20, today), tick=False):
        session_mark_no_show(session=missed)
        walk_in = book(at(10, 30, today))
    assert walk_in.status == Session.Status.BOOKED


@pytest.mark.django_db
def test_a_room_is_never_shared_by_two_practitioners(book, room, therapist_profile, clinic):
    from treatments.tests.factories import SessionTypeFactory

    scalp = SessionTypeFactory(
        name="Scalp", duration_minutes=30, buffer_minutes=10, medical_only=False
    )
    book(at(10))
    with pytest.raises(SlotTaken, match="Room 1"):
        book(at(10, 15), practitioner=therapist_profile, session_type=scalp)


@pytest.mark.django_db
def test_one_practitioner_cannot_be_in_two_rooms(book, room2):
    book(at(10))
    with pytest.raises(SlotTaken, match="Doctor"):
        book(at(10), room_=room2)


@pytest.mark.django_db
def test_it_refuses_the_past(book):
    with pytest.raises(NotBookable, match="past"):
        book(NOW - dt.timedelta(minutes=1))


@pytest.mark.django_db
def test_it_refuses_a_therapist_for_a_medical_only_type(book, therapist_profile):
    with pytest.raises(NotBookable, match="medical practitioner") as err:
        book(at(10), practitioner=therapist_profile)
    assert err.value.field == "practitioner"
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_a_therapist_may_do_a_superficial_type(book, therapist_profile, scalp_superficial):
    assert book(at(10), practitioner=therapist_profile, session_type=scalp_superficial).pk


@pytest.mark.django_db
@pytest.mark.parametrize(("hour", "minute"), [(7, 0), (19, 30), (20, 0), (23, 0)])
def test_it_refuses_outside_working_or_opening_hours(book, hour, minute):
    # Open 08:00-20:00: a 45-minute session must also end by 20:00.
    # 19:30 starts inside the hours but runs past 20:00: the message says when they stop.
    reason = "not working from 20:00" if (hour, minute) == (19, 30) else "or the clinic is closed"
    with pytest.raises(NotBookable, match=reason):
        book(at(hour, minute))


@pytest.mark.django_db
def test_it_allows_a_session_ending_exactly_at_closing(book):
    assert book(at(19, 15)).ends_at == at(20)


@pytest.mark.django_db
def test_leave_blocks_booking_and_extra_hours_open_it(book, practitioner_profile):
    WorkingException.objects.create(staff=practitioner_profile, date=DAY, kind="leave")
    with pytest.raises(NotBookable):
        book(at(10))
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=DAY + dt.timedelta(days=1),
        kind="extra",
        starts=dt.time(20),
        ends=dt.time(22),
    )
    assert book(at(20, 30, DAY + dt.timedelta(days=1))).pk


@pytest.mark.django_db
def test_partial_leave_blocks_only_those_hours(book, practitioner_profile):
    WorkingException.objects.create(
        staff=practitioner_profile, date=DAY, kind="leave", starts=dt.time(12), ends=dt.time(14)
    )
    with pytest.raises(NotBookable):
        book(at(13))
    assert book(at(14)).pk


@pytest.mark.django_db
def test_it_reschedules_and_frees_the_old_slot(book):
    session = book(at(10))
    moved = session_reschedule(session=session, starts_at=at(15))
    assert (moved.starts_at, moved.blocked_until) == (at(15), at(16))
    assert book(at(10)).pk  # the old slot is free again


@pytest.mark.django_db
def test_rescheduling_onto_itself_by_a_few_minutes_is_not_a_conflict(book):
    session = book(at(10))
    assert session_reschedule(session=session, starts_at=at(10, 15)).starts_at == at(10, 15)


@pytest.mark.django_db
def test_rescheduling_onto_another_session_is_refused_and_nothing_changes(book):
    first = book(at(10))
    book(at(12))
    with pytest.raises(SlotTaken):
        session_reschedule(session=first, starts_at=at(12, 30))
    first.refresh_from_db()
    assert first.starts_at == at(10)


@pytest.mark.django_db
def test_cancel_needs_a_reason_and_cannot_happen_twice(book):
    session = book(at(10))
    with pytest.raises(NotBookable, match="why"):
        session_cancel(session=session, reason="   ")
    session_cancel(session=session, reason="Moved away")
    with pytest.raises(InvalidTransition):
        session_cancel(session=session, reason="Again")


@pytest.mark.django_db
def test_day_of_session_transitions(book):
    session = book(at(10, 0, NOW.date()))
    with pytest.raises(InvalidTransition, match="start time has passed"):
        session_mark_no_show(session=session)
    with time_machine.travel(at(10, 5, NOW.date()), tick=False):
        arrived = session_mark_arrived(session=session)
        assert arrived.status == Session.Status.ARRIVED
    with time_machine.travel(at(10, 50, NOW.date()), tick=False):
        done = session_complete(session=arrived)
    assert done.status == Session.Status.COMPLETED
    assert done.completed_at == at(10, 50, NOW.date())


@pytest.mark.django_db
def test_a_patient_cannot_be_checked_in_on_another_day(book):
    with pytest.raises(InvalidTransition, match="day of the session"):
        session_mark_arrived(session=book(at(10)))


# --- Daylight saving time in Europe/London -------------------------------------------------
# Spring forward: Sunday 28 March 2027, 01:00 GMT -> 02:00 BST (01:00-01:59 does not exist).
# Fall back: Sunday 25 October 2026, 02:00 BST -> 01:00 GMT (01:00-01:59 happens twice).


def test_a_time_in_the_spring_forward_gap_is_refused():
    with pytest.raises(LocalTimeError, match="does not exist") as err:
        local_to_utc(dt.datetime(2027, 3, 28, 1, 30), LONDON)
    assert err.value.field == "time"


def test_an_ambiguous_fall_back_time_means_its_first_occurrence():
    assert local_to_utc(dt.datetime(2026, 10, 25, 1, 30), LONDON) == dt.datetime(
        2026, 10, 25, 0, 30, tzinfo=dt.UTC
    )  # 01:30 BST, not 01:30 GMT (01:30 UTC)


@pytest.mark.django_db
def test_bookings_on_the_spring_forward_day_keep_their_wall_time(book):
    with time_machine.travel(dt.datetime(2027, 3, 27, 12, tzinfo=dt.UTC), tick=False):
        sunday = dt.date(2027, 3, 28)
        session = book(at(10, 0, sunday))
    assert session.starts_at == dt.datetime(2027, 3, 28, 9, 0, tzinfo=dt.UTC)  # 10:00 BST
    assert session.starts_at.astimezone(LONDON).hour == 10


@pytest.mark.django_db
def test_night_hours_across_the_fall_back_hold_the_real_elapsed_time(book, practitioner_profile):
    sunday = dt.date(2026, 10, 25)
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=sunday,
        kind="extra",
        starts=dt.time(0),
        ends=dt.time(4),
    )
    with time_machine.travel(dt.datetime(2026, 10, 24, 12, tzinfo=dt.UTC), tick=False):
        first = book(at(1, 0, sunday))  # 01:00 BST = 00:00 UTC
        assert first.starts_at == dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)
        # The clock reads 01:00 again an hour later (GMT); that instant is free and bookable.
        second = book(dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC))
    assert second.starts_at.astimezone(LONDON).strftime("%H:%M %Z") == "01:00 GMT"
    assert first.starts_at.astimezone(LONDON).strftime("%H:%M %Z") == "01:00 BST"


@pytest.mark.django_db
def test_night_hours_across_the_spring_forward_are_shorter(book, practitioner_profile):
    sunday = dt.date(2027, 3, 28)
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=sunday,
        kind="extra",
        starts=dt.time(0),
        ends=dt.time(3),
    )
    with time_machine.travel(dt.datetime(2027, 3, 27, 12, tzinfo=dt.UTC), tick=False):
        # 00:30 GMT + 45 min = 01:15 GMT = 02:15 BST: inside 00:00-03:00 local (2 real hours).
        assert book(at(0, 30, sunday)).ends_at.astimezone(LONDON).strftime("%H:%M") == "02:15"
        with pytest.raises(NotBookable):
            book(at(2, 30, sunday))  # 02:30-03:15 BST runs past the 03:00 end


@pytest.mark.django_db
def test_within_a_request_the_clinic_row_is_read_once(clinic, django_assert_num_queries):
    from treatments.selectors import clinic_for_request, clinic_get, clinic_zone

    with django_assert_num_queries(1), clinic_for_request() as current:
        assert clinic_get() is current
        assert clinic_zone() == LONDON
    with django_assert_num_queries(1):
        clinic_get()  # outside a request: read from the database


@pytest.mark.django_db
def test_an_integrity_error_other_than_an_overlap_is_not_called_slot_taken(book, monkeypatch):
    from django.db import IntegrityError

    from treatments.services import booking

    def broken(*, session, change):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(booking, "session_changed", broken)
    with pytest.raises(IntegrityError, match="some other constraint"):
        book(at(10))
    assert not Session.objects.exists()


# --- the true reason for a refusal --------------------------------------------------------


@pytest.mark.django_db
def test_a_slot_too_short_for_the_session_and_its_clean_up_says_how_much_is_free(
    book, practitioner_profile, room, face
):
    book(at(10))  # held 10:00-11:00, booked before the form below was shown
    with pytest.raises(
        SlotTaken,
        match="Face needs 60 min incl. clean-up; only 45 min free before 10:00 "
        r"\(Ada Doctor is booked 10:00–11:00\)",
    ):
        session_book(
            patient=PatientFactory(),
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=at(9, 15),
            shown_at=NOW,
        )


@pytest.mark.django_db
def test_a_room_in_use_names_the_room_and_its_times(book, room, therapist_profile):
    from treatments.tests.factories import SessionTypeFactory

    superficial = SessionTypeFactory(
        name="Superficial", duration_minutes=30, buffer_minutes=10, medical_only=False
    )
    book(at(16), session_type=superficial)  # Room 1 held 16:00-16:40
    with pytest.raises(SlotTaken, match="Room 1 is booked 16:00–16:40"):
        session_book(
            patient=PatientFactory(),
            session_type=superficial,
            practitioner=therapist_profile,
            room=room,
            starts_at=at(16, 15),
            shown_at=NOW,
        )


@pytest.mark.django_db
def test_running_past_the_end_of_work_says_when_they_stop(book, practitioner_profile):
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=DAY,
        kind=WorkingException.Kind.LEAVE,
        starts=dt.time(17),
        ends=dt.time(20),
    )
    with pytest.raises(NotBookable, match="Ada Doctor is not working from 17:00 on Tue 02 Jun"):
        book(at(16, 30))


@pytest.mark.django_db
def test_just_taken_only_when_the_clash_was_booked_after_the_form_was_shown(
    practitioner_profile, room, face
):
    shown_at = NOW - dt.timedelta(minutes=5)
    first = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=at(10),
    )
    assert first.created_at > shown_at
    second = {
        "patient": PatientFactory(),
        "session_type": face,
        "practitioner": practitioner_profile,
        "room": room,
        "starts_at": at(10, 30),
    }
    with pytest.raises(SlotTaken, match="That slot was just taken"):
        session_book(**second, shown_at=shown_at)
    with pytest.raises(SlotTaken, match="Ada Doctor is booked 10:00–11:00") as refused:
        session_book(**second, shown_at=NOW + dt.timedelta(minutes=1))
    assert "just taken" not in str(refused.value)
