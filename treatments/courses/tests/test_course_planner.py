"""The course planner and booking services, against the database, under a frozen clock.

Clinic: Europe/London, open 08:00-20:00 daily (conftest). The UK clocks go forward on Sunday
31 March 2030 and back on Sunday 27 October 2030.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mesoclinic.errors import DomainError, SlotTaken
from patients.tests.factories import PatientFactory
from treatments.courses.models import Course
from treatments.courses.planner import StepPlan, course_propose
from treatments.courses.selectors import courses_follow_up_due, courses_maintenance_due
from treatments.courses.services import (
    CourseClosed,
    OutsideCourseWindow,
    course_book_all,
    course_book_step,
    course_create,
    course_stop,
)
from treatments.courses.session_events import course_on_session_completed
from treatments.models import Session, WorkingException, WorkingHours
from treatments.selectors import availability_for, session_conflicts
from treatments.services.booking import session_cancel, session_complete, session_reschedule
from treatments.tests.factories import SessionFactory, StaffProfileFactory

from .factories import ProtocolFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
T0 = dt.datetime(2030, 3, 4, 7, 0, tzinfo=dt.UTC)  # Monday 4 March 2030, 07:00 GMT


def local(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def protocol(face):
    return ProtocolFactory(
        name="Skin test",
        sessions_count=4,
        interval_min_days=14,
        interval_max_days=21,
        maintenance_interval_days=90,
        default_session_type=face,
    )


@pytest.fixture
def course(frozen, protocol, practitioner_profile, room):
    return course_create(
        patient=PatientFactory(),
        protocol=protocol,
        practitioner=practitioner_profile,
        room=room,
    )


def assert_bookable(course: Course, plans: list[StepPlan]) -> None:
    """Every proposal: inside its window, inside bookable time, and free."""
    previous_day = None
    for plan in plans:
        assert plan.starts_at is not None, plan.note
        day = plan.starts_at.astimezone(LONDON).date()
        if previous_day is not None:
            assert plan.window_open == previous_day + dt.timedelta(days=course.interval_min_days)
            assert plan.window_close == previous_day + dt.timedelta(days=course.interval_max_days)
            assert plan.window_open <= day <= plan.window_close
        previous_day = day
        if plan.booked:
            continue
        assert plan.room is not None, plan.note
        end = plan.starts_at + course.session_type.duration
        intervals = availability_for(
            staff_ids=[course.practitioner_id], first_day=day, days=1, zone=LONDON
        )[(course.practitioner_id, day)]
        assert any(a <= plan.starts_at and end <= b for a, b in intervals)
        assert not session_conflicts(
            starts_at=plan.starts_at,
            blocked_until=end + course.session_type.buffer,
            practitioner_id=course.practitioner_id,
            room_id=plan.room.pk,
        ).exists()
        assert not Session.objects.filter(
            patient=course.patient,
            status__in=Session.ACTIVE,
            starts_at__lt=end,
            ends_at__gt=plan.starts_at,
        ).exists()


def test_creating_a_course_copies_the_protocol_and_makes_its_steps(course, protocol):
    assert course.sessions_count == 4
    assert (course.interval_min_days, course.interval_max_days) == (14, 21)
    assert course.session_type == protocol.default_session_type
    assert list(course.steps.values_list("number", flat=True)) == [1, 2, 3, 4]


def test_it_refuses_a_therapist_for_a_medical_only_session_type(
    frozen, protocol, therapist_profile
):
    with pytest.raises(DomainError, match="needs a medical practitioner") as excinfo:
        course_create(patient=PatientFactory(), protocol=protocol, practitioner=therapist_profile)
    assert excinfo.value.field == "practitioner"
    assert not Course.objects.exists()


def test_it_proposes_every_step_inside_its_window_at_the_same_local_time(course):
    plans = course_propose(course=course, first_start=local(2030, 3, 5, 10))
    assert [p.number for p in plans] == [1, 2, 3, 4]
    assert_bookable(course, plans)
    assert plans[0].starts_at == local(2030, 3, 5, 10)
    # Windows open 14 days after the previous step; the earliest day keeps the time.
    assert [p.starts_at.astimezone(LONDON).date() for p in plans] == [
        dt.date(2030, 3, 5),
        dt.date(2030, 3, 19),
        dt.date(2030, 4, 2),
        dt.date(2030, 4, 16),
    ]
    assert {p.starts_at.astimezone(LONDON).time() for p in plans} == {dt.time(10)}


def test_proposals_across_the_spring_dst_change_keep_the_local_time(frozen, face, room):
    practitioner = StaffProfileFactory()
    protocol = ProtocolFactory(
        name="Weekly",
        sessions_count=3,
        interval_min_days=7,
        interval_max_days=14,
        default_session_type=face,
    )
    course = course_create(
        patient=PatientFactory(), protocol=protocol, practitioner=practitioner, room=room
    )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 24, 10))
    plans = course_propose(course=course)
    assert_bookable(course, plans)
    step2 = plans[1].starts_at
    # 7 local days later is Sunday 31 March, after the clocks went forward: still 10:00 local,
    # which is 09:00 UTC (it was 10:00 UTC a week before).
    assert step2.astimezone(LONDON).replace(tzinfo=None) == dt.datetime(2030, 3, 31, 10)
    assert step2 == dt.datetime(2030, 3, 31, 9, 0, tzinfo=dt.UTC)


def test_proposals_across_the_autumn_dst_change_keep_the_local_time(frozen, face, room):
    practitioner = StaffProfileFactory()
    protocol = ProtocolFactory(
        name="Weekly",
        sessions_count=2,
        interval_min_days=7,
        interval_max_days=14,
        default_session_type=face,
    )
    course = course_create(
        patient=PatientFactory(), protocol=protocol, practitioner=practitioner, room=room
    )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 10, 20, 9, 30))
    plans = course_propose(course=course)
    assert_bookable(course, plans)
    assert plans[1].starts_at == dt.datetime(2030, 10, 27, 9, 30, tzinfo=dt.UTC)  # GMT again
    assert plans[1].starts_at.astimezone(LONDON).time() == dt.time(9, 30)


def test_it_only_proposes_the_practitioners_working_days_and_hours(frozen, face, room):
    practitioner = StaffProfileFactory(hours=False)
    # Tuesdays 09:00-13:00 only, and on leave on Tuesday 19 March.
    WorkingHours.objects.create(staff=practitioner, weekday=1, starts=dt.time(9), ends=dt.time(13))
    WorkingException.objects.create(
        staff=practitioner, date=dt.date(2030, 3, 19), kind=WorkingException.Kind.LEAVE
    )
    protocol = ProtocolFactory(
        name="Tue",
        sessions_count=4,
        interval_min_days=7,
        interval_max_days=21,
        default_session_type=face,
    )
    course = course_create(
        patient=PatientFactory(), protocol=protocol, practitioner=practitioner, room=room
    )
    plans = course_propose(course=course, first_start=local(2030, 3, 4, 16))
    assert_bookable(course, plans)
    days = [p.starts_at.astimezone(LONDON) for p in plans]
    assert all(d.weekday() == 1 and dt.time(9) <= d.time() <= dt.time(12, 15) for d in days)
    assert dt.date(2030, 3, 19) not in [d.date() for d in days]


def test_a_taken_preferred_time_moves_the_proposal_to_a_free_slot(course, practitioner_profile):
    # Someone else holds 10:00-11:00 on every day of step 2's window.
    for offset in range(14, 22):
        day = dt.date(2030, 3, 5) + dt.timedelta(days=offset)
        SessionFactory(
            practitioner=practitioner_profile,
            room=course.room,
            session_type=course.session_type,
            starts_at=local(day.year, day.month, day.day, 10),
        )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    plans = course_propose(course=course)
    assert_bookable(course, plans)
    step2 = plans[1].starts_at.astimezone(LONDON)
    assert step2.date() == dt.date(2030, 3, 19)
    # 10:00 is held until 11:00 (45 min + 15 min buffer). 09:00 ends its buffer at 10:00,
    # back to back, so it and 11:00 are the nearest free times; the earlier one wins.
    assert step2.time() == dt.time(9)


def test_the_patients_other_sessions_are_avoided(course, room2):
    other_practitioner = StaffProfileFactory()
    SessionFactory(
        patient=course.patient,
        practitioner=other_practitioner,
        room=room2,
        starts_at=local(2030, 3, 5, 10),
    )
    plans = course_propose(course=course, first_start=local(2030, 3, 5, 10))
    assert plans[0].starts_at != local(2030, 3, 5, 10)
    assert_bookable(course, plans)


def test_book_all_books_every_step_inside_its_window(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    result = course_book_all(course=course)
    assert result.problem == ""
    assert len(result.booked) == 3 and result.warnings == []
    plans = course_propose(course=course)
    assert all(p.booked for p in plans)
    assert_bookable(course, plans)


def test_booking_before_the_window_opens_is_refused_and_nothing_is_saved(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    with pytest.raises(OutsideCourseWindow, match="Too early: session 2 can be booked from"):
        course_book_step(course=course, step_number=2, starts_at=local(2030, 3, 18, 10))
    assert Session.objects.count() == 1
    assert course.steps.get(number=2).session is None


def test_booking_after_the_window_closes_books_and_warns(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    booking = course_book_step(course=course, step_number=2, starts_at=local(2030, 3, 27, 10))
    assert "1 day after its window closed" in booking.warning
    assert course.steps.get(number=2).session == booking.session


def test_booking_a_step_before_the_previous_one_is_refused(course):
    with pytest.raises(OutsideCourseWindow, match="Book session 1 first"):
        course_book_step(course=course, step_number=2, starts_at=local(2030, 3, 20, 10))


def test_booking_goes_through_the_no_double_booking_guarantee(course, practitioner_profile):
    SessionFactory(practitioner=practitioner_profile, starts_at=local(2030, 3, 5, 10))
    with pytest.raises(SlotTaken):
        course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10, 30))
    assert course.steps.get(number=1).session is None


def test_moving_a_session_re_proposes_the_later_ones(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    step2 = course_book_step(course=course, step_number=2, starts_at=local(2030, 3, 19, 10))
    before = course_propose(course=course)
    assert before[2].starts_at.astimezone(LONDON).date() == dt.date(2030, 4, 2)

    session_reschedule(session=step2.session, starts_at=local(2030, 3, 22, 14))
    after = course_propose(course=course)
    assert after[1].booked and after[1].starts_at == local(2030, 3, 22, 14)
    assert after[2].starts_at == local(2030, 4, 5, 14)  # 14 days after the new date, same time
    assert_bookable(course, after)


def test_cancelling_one_session_leaves_the_others_booked(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    course_book_all(course=course)
    sessions = {s.number: s.session_id for s in course.steps.all()}
    session_cancel(session=Session.objects.get(pk=sessions[2]), reason="Patient unwell")

    plans = course_propose(course=course)
    assert [p.booked for p in plans] == [True, False, True, True]
    assert plans[1].proposed and plans[1].starts_at < plans[2].starts_at
    assert {p.session.pk for p in plans if p.booked} == {sessions[1], sessions[3], sessions[4]}

    rebooked = course_book_step(
        course=course, step_number=2, starts_at=plans[1].starts_at, room=plans[1].room
    )
    assert rebooked.session.pk != sessions[2]
    assert course.steps.get(number=2).session == rebooked.session


def test_a_step_must_stay_before_the_next_booked_one(course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    course_book_all(course=course)
    step2 = course.steps.get(number=2)
    session_cancel(session=step2.session, reason="Moved")
    step3_start = course.steps.get(number=3).session.starts_at
    with pytest.raises(OutsideCourseWindow, match="must come before session 3"):
        course_book_step(
            course=course, step_number=2, starts_at=step3_start + dt.timedelta(hours=2)
        )


def test_a_stopped_course_cannot_be_booked(course):
    course_stop(course=course, reason="Patient moved away")
    with pytest.raises(CourseClosed):
        course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))


def test_completing_the_last_session_completes_the_course_and_sets_maintenance(course, frozen):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    course_book_all(course=course)
    steps = list(course.steps.select_related("session"))
    for step in steps:
        frozen.move_to(step.session.ends_at + dt.timedelta(minutes=5))
        session_complete(session=step.session)
        course_on_session_completed(session=step.session)  # idempotent if the hook also ran
        course.refresh_from_db()
        if step.number < 4:
            assert course.status == Course.Status.ACTIVE and course.maintenance_due is None
    assert course.status == Course.Status.COMPLETED
    last_day = steps[-1].session.starts_at.astimezone(LONDON).date()
    assert course.maintenance_due == last_day + dt.timedelta(days=90)
    assert list(courses_maintenance_due(today=course.maintenance_due)) == [course]
    assert list(courses_maintenance_due(today=course.maintenance_due - dt.timedelta(days=1))) == []


def test_a_no_show_does_not_complete_the_course(course, frozen):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    course_book_all(course=course)
    steps = list(course.steps.select_related("session"))
    frozen.move_to(steps[-1].session.ends_at + dt.timedelta(minutes=5))
    Session.objects.filter(pk=steps[1].session_id).update(status=Session.Status.NO_SHOW)
    for step in (steps[0], steps[2], steps[3]):
        session_complete(session=step.session)
        course_on_session_completed(session=step.session)
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE


def test_follow_up_is_due_once_the_previous_session_is_done_and_the_next_unbooked(course, frozen):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    frozen.move_to(local(2030, 3, 5, 11))
    session_complete(session=course.steps.get(number=1).session)
    assert courses_follow_up_due(today=dt.date(2030, 3, 18)) == []
    (due,) = courses_follow_up_due(today=dt.date(2030, 3, 19))
    assert (due.course, due.step_number) == (course, 2)
    assert (due.window_open, due.window_close) == (dt.date(2030, 3, 19), dt.date(2030, 3, 26))
    assert courses_follow_up_due(today=dt.date(2030, 3, 12), lead_days=7) != []


def test_a_closed_window_proposes_the_earliest_free_time_with_a_note(course, frozen):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    frozen.move_to(local(2030, 4, 10, 7))
    plans = course_propose(course=course)
    assert "window closed on Tue 26 Mar 2030" in plans[1].note
    assert plans[1].starts_at.astimezone(LONDON).date() == dt.date(2030, 4, 10)
    assert plans[1].starts_at.astimezone(LONDON).time() == dt.time(10)


def test_no_free_time_in_a_window_is_said_and_later_steps_are_still_proposed(frozen, face, room):
    practitioner = StaffProfileFactory()
    protocol = ProtocolFactory(
        name="Tight",
        sessions_count=3,
        interval_min_days=7,
        interval_max_days=8,
        default_session_type=face,
    )
    course = course_create(
        patient=PatientFactory(), protocol=protocol, practitioner=practitioner, room=room
    )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    for day in (12, 13):
        WorkingException.objects.create(
            staff=practitioner, date=dt.date(2030, 3, day), kind=WorkingException.Kind.LEAVE
        )
    plans = course_propose(course=course)
    assert plans[1].starts_at is None and "has no free" in plans[1].note
    assert plans[2].starts_at is not None
    result = course_book_all(course=course)
    assert result.booked == [] and result.problem.startswith("Session 2:")


def test_proposing_runs_a_fixed_number_of_queries(course, django_assert_max_num_queries):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    for day in range(6, 30):
        SessionFactory(practitioner=course.practitioner, starts_at=local(2030, 3, day, 12))
    with django_assert_max_num_queries(8):
        course_propose(course=course)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_booking_the_same_step_at_once_make_one_session(
    protocol, practitioner_profile, room, room2
):
    import threading

    from django.db import connection

    # time-machine patches the clock process-wide, so the threads see the frozen time too.
    traveller = time_machine.travel(T0, tick=False)
    traveller.start()
    course = course_create(
        patient=PatientFactory(), protocol=protocol, practitioner=practitioner_profile
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def book(hour: int) -> None:
        try:
            barrier.wait()
            course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, hour))
            outcomes.append("booked")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(9 + n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    traveller.stop()
    assert sorted(outcomes) == ["booked"] + ["refused"] * 5
    assert Session.objects.filter(patient=course.patient).count() == 1
    assert course.steps.get(number=1).session is not None


def _consultation(patient, practitioner_profile, plan_sessions):
    from treatments.clinical.models import Consultation

    return Consultation.objects.create(
        patient=patient,
        practitioner=practitioner_profile.user,
        skin_type="dry",
        fitzpatrick=2,
        hydration="low",
        elasticity="moderate",
        sensitivity="low",
        plan_sessions=plan_sessions,
    )


def test_a_course_from_a_consultation_takes_the_plans_number_of_sessions(
    frozen, protocol, practitioner_profile
):
    patient = PatientFactory()
    consultation = _consultation(patient, practitioner_profile, plan_sessions=5)
    course = course_create(
        patient=patient,
        protocol=protocol,
        practitioner=practitioner_profile,
        consultation=consultation,
    )
    assert course.consultation == consultation
    assert course.sessions_count == 5 and course.steps.count() == 5


def test_another_patients_consultation_is_refused(frozen, protocol, practitioner_profile):
    consultation = _consultation(PatientFactory(), practitioner_profile, plan_sessions=None)
    with pytest.raises(DomainError, match="another patient's"):
        course_create(
            patient=PatientFactory(),
            protocol=protocol,
            practitioner=practitioner_profile,
            consultation=consultation,
        )
    assert not Course.objects.exists()


def test_without_a_wish_the_first_session_is_proposed_from_tomorrow(course):
    plans = course_propose(course=course)
    assert plans[0].starts_at == local(2030, 3, 5, 8)  # opening time the next day
    assert_bookable(course, plans)
