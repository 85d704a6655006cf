"""Writes for courses: create, book one step or all of them, stop, and complete.

Interface for the lead / booking and the messaging helper:

    course_create(*, patient, protocol, practitioner, session_type=None, room=None,
                  consultation=None, sessions_count=None, plan_reference="", by=None) -> Course
    course_book_step(*, course, step_number, starts_at, room=None, by=None) -> StepBooking
        Books through treatments.services.booking.session_book (so the no-double-booking
        guarantee holds), links the step and cancels its pending follow-up nudges
        (treatments.messaging). Refuses (OutsideCourseWindow) a start before the
        step's window opens; after it closes, books and returns `StepBooking.warning`.
    course_step_book_from_calendar(*, course, step_number, patient, session_type, practitioner,
                                   room, starts_at, by=None, notes="") -> StepBooking
        The booking form's "count this as step k of the course": same rules and locks as
        course_book_step, with the type, practitioner and room the desk chose.
    course_book_all(*, course, by=None) -> BookAllResult
    course_stop(*, course, reason, by=None) -> Course   also cancels its waiting messages.
    course_on_session_completed(*, session) -> Course | None
        Idempotent. Called from session_complete; completes the course after its last
        session and sets `maintenance_due`.

    room_for_slot(course, starts_at) -> Room   the course's room or the first free active one.
    maintenance_due_for(course, last_session) -> date
    (planner.py) course_propose(*, course, first_start=None) -> list[StepPlan];
                 SlotCalendar for offering free starts.

Moving a session needs no call here: proposals are computed from the sessions as they are. A
cancelled or no-show session leaves its step unbooked again; the others keep their bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.errors import DomainError, unique_or_field_error
from patients.models import Patient
from treatments.clinical.models import Consultation
from treatments.messaging.outbox import messages_on_course_step_booked, messages_on_course_stopped
from treatments.models import Room, Session, SessionType, StaffProfile
from treatments.selectors import clinic_zone
from treatments.services.booking import booking_parties_check, session_book

from .models import (
    PROTOCOL_NAME_TAKEN,
    SESSIONS_MAX,
    SESSIONS_MIN,
    Course,
    CourseStep,
    Protocol,
)
from .planner import course_propose, step_active_session
from .selectors import room_for_slot


class OutsideCourseWindow(DomainError):
    """A course session booked before its protocol window opens."""


class CourseClosed(DomainError):
    """The course is completed or stopped."""


@dataclass(frozen=True)
class StepBooking:
    step: CourseStep
    session: Session
    warning: str = ""


@dataclass
class BookAllResult:
    booked: list[StepBooking] = field(default_factory=list)
    problem: str = ""

    @property
    def warnings(self) -> list[str]:
        return [item.warning for item in self.booked if item.warning]


PROTOCOL_FIELDS = (
    "name",
    "indication",
    "description",
    "sessions_count",
    "interval_min_days",
    "interval_max_days",
    "maintenance_interval_days",
    "default_session_type",
    "active",
)


def protocol_save(*, data: dict[str, Any], protocol: Protocol | None = None) -> Protocol:
    """Create or edit a protocol. Courses under way keep the numbers they copied."""
    if not SESSIONS_MIN <= data["sessions_count"] <= SESSIONS_MAX:
        raise DomainError(
            f"A protocol has {SESSIONS_MIN} to {SESSIONS_MAX} sessions.", field="sessions_count"
        )
    if data["interval_min_days"] > data["interval_max_days"]:
        raise DomainError(
            "The interval must end on or after the day it starts.", field="interval_max_days"
        )
    name = data["name"].strip()
    clash = Protocol.objects.filter(name__iexact=name)
    if protocol is not None:
        clash = clash.exclude(pk=protocol.pk)
    if clash.exists():
        raise DomainError(PROTOCOL_NAME_TAKEN, field="name")
    protocol = protocol or Protocol()
    for field_name in PROTOCOL_FIELDS:
        setattr(protocol, field_name, data[field_name])
    protocol.name = name
    # Two managers saving one name at once both pass the check above: the constraint decides.
    with unique_or_field_error(constraint="name", message=PROTOCOL_NAME_TAKEN, field="name"):
        protocol.save()
    return protocol


def course_create(
    *,
    patient: Patient,
    protocol: Protocol,
    practitioner: StaffProfile,
    session_type: SessionType | None = None,
    room: Room | None = None,
    consultation: Consultation | None = None,
    sessions_count: int | None = None,
    plan_reference: str = "",
    by: User | None = None,
) -> Course:
    """A course following `protocol`, optionally carrying out a consultation's plan.

    The number of sessions is `sessions_count`, else the consultation plan's, else the
    protocol's (the plan may say 5 where the protocol says 4); the interval window and the
    maintenance interval are copied from the protocol.
    """
    session_type = session_type or protocol.default_session_type
    planned = getattr(consultation, "plan_sessions", None)
    sessions_count = sessions_count or planned or protocol.sessions_count
    if not SESSIONS_MIN <= sessions_count <= SESSIONS_MAX:
        raise DomainError(
            f"A course has {SESSIONS_MIN} to {SESSIONS_MAX} sessions.", field="sessions_count"
        )
    if consultation is not None and consultation.patient_id != patient.pk:
        raise DomainError("That consultation is another patient's.", field="consultation")
    if not protocol.active:
        raise DomainError("This protocol is no longer offered.", field="protocol")
    if session_type is None:
        raise DomainError(
            "Choose the session type: this protocol has no default.", field="session_type"
        )
    booking_parties_check(session_type=session_type, practitioner=practitioner, room=room)
    with transaction.atomic():
        course = Course.objects.create(
            patient=patient,
            protocol=protocol,
            practitioner=practitioner,
            session_type=session_type,
            room=room,
            sessions_count=sessions_count,
            interval_min_days=protocol.interval_min_days,
            interval_max_days=protocol.interval_max_days,
            maintenance_interval_days=protocol.maintenance_interval_days,
            consultation=consultation,
            plan_reference=plan_reference.strip(),
            created_by=by if getattr(by, "pk", None) else None,
        )
        CourseStep.objects.bulk_create(
            CourseStep(course=course, number=number) for number in range(1, sessions_count + 1)
        )
    return course


def _require_active(course: Course) -> None:
    if course.status != Course.Status.ACTIVE:
        raise CourseClosed(
            f"This course is {course.get_status_display().lower()}; no more sessions can be "
            "booked in it."
        )


def _local(day_or_time: datetime) -> datetime:
    return day_or_time.astimezone(clinic_zone())


def _window_check(
    *,
    course: Course,
    steps: list[CourseStep],
    number: int,
    starts_at: datetime,
    field: str = "time",
) -> str:
    """Refuse before the window; return a warning after it; '' inside it."""
    by_number = {step.number: step for step in steps}
    day = _local(starts_at).date()
    for later in steps:
        session = step_active_session(later)
        if later.number > number and session is not None and session.starts_at <= starts_at:
            raise OutsideCourseWindow(
                f"Session {number} must come before session {later.number}, booked on "
                f"{_local(session.starts_at):%a %d %b %Y at %H:%M}. Choose an earlier date or "
                f"move session {later.number} first.",
                field=field,
            )
    if number == 1:
        return ""
    previous = step_active_session(by_number[number - 1])
    if previous is None:
        raise OutsideCourseWindow(
            f"Book session {number - 1} first: session {number}'s window is counted from it.",
            field=field,
        )
    previous_day = _local(previous.starts_at).date()
    opens, closes = course.step_window(previous_day)
    if day < opens:
        raise OutsideCourseWindow(
            f"Too early: session {number} can be booked from {opens:%a %d %b %Y}, "
            f"{course.interval_min_days} days after session {number - 1} "
            f"({previous_day:%a %d %b}). Choose a date from {opens:%d %b} to {closes:%d %b}.",
            field=field,
        )
    if day > closes:
        late = (day - closes).days
        return (
            f"Session {number} is booked {late} day{'s' if late != 1 else ''} after its window "
            f"closed ({closes:%a %d %b %Y}, {course.interval_max_days} days after session "
            f"{number - 1}). Tell the practitioner; the protocol may need adjusting."
        )
    return ""


def _lock_unbooked_step(
    *, course: Course, step_number: int, field: str
) -> tuple[Course, list[CourseStep], CourseStep]:
    """The course (row-locked) with its steps, and step `step_number`, which must be unbooked.

    Call inside a transaction. The course row lock serialises two desks booking the same course;
    session_book then takes its own practitioner and room locks (always after this one, never
    before), so the "already booked" re-check below cannot race.
    """
    course = (
        Course.objects.select_for_update(of=("self",))
        .select_related("patient", "protocol", "practitioner__user", "session_type", "room")
        .get(pk=course.pk)
    )
    _require_active(course)
    steps = list(course.steps.select_related("session").order_by("number"))
    step = next((s for s in steps if s.number == step_number), None)
    if step is None:
        raise DomainError(f"This course has no session {step_number}.", field=field)
    current = step_active_session(step)
    if current is not None:
        raise DomainError(
            f"Session {step_number} is already booked for "
            f"{_local(current.starts_at):%a %d %b %Y at %H:%M}.",
            field=field,
        )
    return course, steps, step


def _link_step(*, course: Course, step: CourseStep, session: Session) -> None:
    step.session = session
    step.save(update_fields=["session"])
    # Same transaction as the booking: no nudge for this step can be sent after it is booked,
    # nor survive a booking that rolls back.
    messages_on_course_step_booked(course_id=course.pk, step_number=step.number)


def _step_label(course: Course, step_number: int) -> str:
    # The session's desk note: neutral, the front desk reads it (Course.desk_label).
    return course.desk_label(step_number)[:500]


def course_book_step(
    *,
    course: Course,
    step_number: int,
    starts_at: datetime,
    room: Room | None = None,
    by: User | None = None,
) -> StepBooking:
    with transaction.atomic():
        course, steps, step = _lock_unbooked_step(
            course=course, step_number=step_number, field="time"
        )
        warning = _window_check(course=course, steps=steps, number=step_number, starts_at=starts_at)
        session = session_book(
            patient=course.patient,
            session_type=course.session_type,
            practitioner=course.practitioner,
            room=room or room_for_slot(course, starts_at),
            starts_at=starts_at,
            booked_by=by,
            notes=_step_label(course, step_number),
        )
        _link_step(course=course, step=step, session=session)
    return StepBooking(step=step, session=session, warning=warning)


def course_step_book_from_calendar(
    *,
    course: Course,
    step_number: int,
    patient: Patient,
    session_type: SessionType,
    practitioner: StaffProfile,
    room: Room,
    starts_at: datetime,
    by: User | None = None,
    notes: str = "",
) -> StepBooking:
    """Book a session from the ordinary booking form and count it as step `step_number`.

    The desk chose the session type, practitioner and room, so those are booked as given (a
    course step may be done by a colleague or as another session type); the course's rules hold
    as on the course page: before the window opens is refused, after it closes books and warns,
    step k-1 must be booked first. Booking and link commit together or not at all.
    """
    if course.patient_id != patient.pk:
        raise DomainError(
            "That course belongs to another patient. Untick it or pick the course's patient.",
            field="course_step",
        )
    with transaction.atomic():
        course, steps, step = _lock_unbooked_step(
            course=course, step_number=step_number, field="course_step"
        )
        warning = _window_check(
            course=course, steps=steps, number=step_number, starts_at=starts_at, field="date"
        )
        session = session_book(
            patient=patient,
            session_type=session_type,
            practitioner=practitioner,
            room=room,
            starts_at=starts_at,
            booked_by=by,
            notes=notes or _step_label(course, step_number),
        )
        _link_step(course=course, step=step, session=session)
    return StepBooking(step=step, session=session, warning=warning)


@dataclass(frozen=True)
class DeskBooking:
    """What the booking form made: the session, the course line for the desk's message, and a
    warning (a step booked after its window closed)."""

    session: Session
    counted: str = ""
    warning: str = ""


def session_book_at_desk(
    *,
    patient: Patient,
    session_type: SessionType,
    practitioner: StaffProfile,
    room: Room,
    starts_at: datetime,
    notes: str = "",
    course_step: tuple[Course, int] | None = None,
    by: User | None = None,
    shown_at: datetime | None = None,
) -> DeskBooking:
    """Book as the desk's form says: an ordinary booking, or one counted as step `n` of a course
    (same locks and rules as course_book_step, with the type, practitioner and room chosen)."""
    if course_step is None:
        session = session_book(
            patient=patient,
            session_type=session_type,
            practitioner=practitioner,
            room=room,
            starts_at=starts_at,
            booked_by=by,
            notes=notes,
            shown_at=shown_at,
        )
        return DeskBooking(session=session)
    course, number = course_step
    result = course_step_book_from_calendar(
        course=course,
        step_number=number,
        patient=patient,
        session_type=session_type,
        practitioner=practitioner,
        room=room,
        starts_at=starts_at,
        by=by,
        notes=notes,
    )
    counted = f" Counted as {course.desk_label(number)}."
    return DeskBooking(session=result.session, counted=counted, warning=result.warning)


def course_book_all(*, course: Course, by: User | None = None) -> BookAllResult:
    """Book every unbooked step at its proposed time, in order.

    Proposals are recomputed after each booking, so each step is counted from the one just
    booked. If a slot is taken meanwhile, the step is re-proposed once; a second failure stops
    here and says why, keeping what was booked.
    """
    result = BookAllResult()
    _require_active(course)
    retried: set[int] = set()
    for _ in range(2 * course.sessions_count):
        plans = course_propose(course=course)
        plan = next((p for p in plans if not p.booked), None)
        if plan is None:
            break
        if plan.starts_at is None:
            result.problem = f"Session {plan.number}: {plan.note}"
            break
        try:
            result.booked.append(
                course_book_step(
                    course=course,
                    step_number=plan.number,
                    starts_at=plan.starts_at,
                    room=plan.room,
                    by=by,
                )
            )
        except DomainError as err:
            if plan.number in retried:
                result.problem = f"Session {plan.number}: {err.message}"
                break
            retried.add(plan.number)
    return result


def course_stop(*, course: Course, reason: str, by: User | None = None) -> Course:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the course is stopped.", field="reason")
    with transaction.atomic():
        course = Course.objects.select_for_update(of=("self",)).get(pk=course.pk)
        _require_active(course)
        course.status = Course.Status.STOPPED
        course.stopped_at = timezone.now()
        course.stop_reason = reason
        course.save(update_fields=["status", "stopped_at", "stop_reason", "updated_at"])
        # A course stopped after a reaction must not leave "book your next session" nudges
        # waiting in the outbox until the dispatcher gets to them.
        messages_on_course_stopped(course_id=course.pk)
    return course
