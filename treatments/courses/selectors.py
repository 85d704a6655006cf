"""Reads for courses and protocols. Query counts stay flat as courses and steps grow.

For the messaging helper (follow-up and maintenance nudges):

    courses_follow_up_due(*, today: date, lead_days: int = 0) -> list[FollowUpDue]
        Active courses whose next session is not booked, whose previous session is completed,
        and whose window opens on or before today + lead_days.
    courses_maintenance_due(*, today: date) -> QuerySet[Course]
        Completed courses whose maintenance_due is on or before `today`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.db.models import Prefetch, QuerySet

from mesoclinic.errors import NotBookable
from patients.models import Patient
from treatments.clinical.models import Consultation
from treatments.models import Room, Session
from treatments.selectors import clinic_zone, rooms_active, session_conflicts, staff_bookable

from .models import Course, CourseStep, Protocol
from .planner import step_active_session

STEPS = Prefetch(
    "steps",
    queryset=CourseStep.objects.select_related(
        "session__session_type", "session__room", "session__practitioner__user"
    ).order_by("number"),
)


def protocols_list(*, active_only: bool = False) -> QuerySet[Protocol]:
    qs = Protocol.objects.select_related("default_session_type").order_by("name")
    return qs.filter(active=True) if active_only else qs


def course_get(*, pk: int) -> Course:
    return (
        Course.objects.select_related(
            "patient", "protocol", "practitioner__user", "session_type", "room"
        )
        .prefetch_related(STEPS)
        .get(pk=pk)
    )


def courses_for_patient(*, patient: Patient) -> QuerySet[Course]:
    return (
        Course.objects.filter(patient=patient)
        .select_related("protocol", "practitioner__user", "session_type")
        .prefetch_related(STEPS)
        .order_by("-created_at", "-id")
    )


def courses_list(*, status: str | None = Course.Status.ACTIVE) -> QuerySet[Course]:
    qs = Course.objects.select_related(
        "patient", "protocol", "practitioner__user", "session_type"
    ).prefetch_related(STEPS)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("patient__last_name", "patient__first_name", "id")


def course_progress(course: Course) -> tuple[int, int]:
    """(completed sessions, sessions in the course), from prefetched steps."""
    done = sum(
        1
        for step in course.steps.all()
        if step.session is not None and step.session.status == Session.Status.COMPLETED
    )
    return done, course.sessions_count


@dataclass(frozen=True)
class FollowUpDue:
    course: Course
    step_number: int
    window_open: date
    window_close: date


def courses_follow_up_due(*, today: date, lead_days: int = 0) -> list[FollowUpDue]:
    zone = clinic_zone()
    due: list[FollowUpDue] = []
    for course in courses_list(status=Course.Status.ACTIVE).select_related("patient"):
        steps = list(course.steps.all())
        for previous, step in pairwise(steps):
            if step_active_session(step) is not None:
                continue
            session = previous.session
            if session is None or session.status != Session.Status.COMPLETED:
                break
            opens, closes = course.step_window(session.starts_at.astimezone(zone).date())
            if opens <= today + timedelta(days=lead_days):
                due.append(
                    FollowUpDue(
                        course=course,
                        step_number=step.number,
                        window_open=opens,
                        window_close=closes,
                    )
                )
            break
    return due


def courses_maintenance_due(*, today: date) -> QuerySet[Course]:
    return Course.objects.filter(
        status=Course.Status.COMPLETED, maintenance_due__lte=today
    ).select_related("patient", "protocol", "practitioner__user")


@dataclass(frozen=True)
class StepChoice:
    """An active course's next unbooked step, as the booking form offers it.

    `value` is what the form posts ("<course id>:<step number>"); `timing` says where the chosen
    day falls: "inside", "before" or "after" the window, "" when there is no day or no window.
    """

    course: Course
    number: int
    window_open: date | None
    window_close: date | None
    timing: str
    preselected: bool

    @property
    def value(self) -> str:
        return f"{self.course.pk}:{self.number}"


def course_step_choices(
    *, patient: Patient, session_type_id: int | None = None, day: date | None = None
) -> list[StepChoice]:
    """For the booking form: each active course of `patient` whose next step is unbooked.

    The next step is the first step without an active session; its window is counted from the
    previous step's session in local days, as course_book_step checks it. Two queries.
    """
    zone = clinic_zone()
    choices: list[StepChoice] = []
    courses = (
        Course.objects.filter(patient=patient, status=Course.Status.ACTIVE)
        .select_related("session_type")
        .prefetch_related(Prefetch("steps", queryset=CourseStep.objects.select_related("session")))
        .order_by("created_at", "id")
    )
    for course in courses:
        steps = sorted(course.steps.all(), key=lambda s: s.number)
        previous_session = None  # of the last booked step before the first open one
        for step in steps:
            session = step_active_session(step)
            if session is None:
                break
            previous_session = session
        else:
            continue  # every step is booked
        opens = closes = None
        if previous_session is not None:
            opens, closes = course.step_window(previous_session.starts_at.astimezone(zone).date())
        timing = ""
        if day is not None and opens is not None and closes is not None:
            timing = "before" if day < opens else "after" if day > closes else "inside"
        choices.append(
            StepChoice(
                course=course,
                number=step.number,
                window_open=opens,
                window_close=closes,
                timing=timing,
                preselected=session_type_id is not None
                and course.session_type_id == session_type_id,
            )
        )
    # Two courses of the same type: preselecting both would be a guess; preselect neither.
    if sum(choice.preselected for choice in choices) > 1:
        choices = [replace(choice, preselected=False) for choice in choices]
    return choices


def room_for_slot(course: Course, starts_at: datetime) -> Room:
    """The course's room, or the first active room free for the whole slot."""
    held_until = starts_at + course.session_type.duration + course.session_type.buffer
    rooms = [course.room] if course.room and course.room.active else list(rooms_active())
    for room in rooms:
        if (
            not session_conflicts(
                starts_at=starts_at,
                blocked_until=held_until,
                practitioner_id=course.practitioner_id,
                room_id=room.pk,
            )
            .filter(room_id=room.pk)
            .exists()
        ):
            return room
    raise NotBookable(
        "No room is free at that time. Choose another time.",
        field="time",
    )


def maintenance_due_for(course: Course, last_session: Session) -> date:
    """The local date of the course's maintenance session: the maintenance interval counted from
    the last session's local day (a date rule, so it does not move with a clock change)."""
    ended = last_session.completed_at or last_session.starts_at
    return ended.astimezone(clinic_zone()).date() + timedelta(days=course.maintenance_interval_days)


def booking_step_context(
    *, patient: Patient | None, session_type_id: int | None, day: date | None, keep: str | None
) -> dict[str, Any]:
    """Context for courses/_booking_step_choice.html on the booking form.

    `keep` is the value the desk has ticked (None: nothing yet, so preselect by session type); a
    kept value no longer offered (the step was booked meanwhile) falls back to "not a course".
    """
    if patient is None:
        return {"step_choices": [], "step_selected": "", "step_type_id": session_type_id}
    choices = course_step_choices(patient=patient, session_type_id=session_type_id, day=day)
    if keep is not None:
        selected = keep if keep in {choice.value for choice in choices} else ""
    else:
        selected = next((choice.value for choice in choices if choice.preselected), "")
    return {"step_choices": choices, "step_selected": selected, "step_type_id": session_type_id}


def course_plan_initial(*, patient: Patient, consultation_pk: str) -> dict[str, Any]:
    """The course form's starting values from a consultation's treatment plan: its protocol
    (the active protocol the plan names, longest name first), its practitioner when bookable,
    its number of sessions, and the plan's text as the course's plan note."""
    consultation = (
        Consultation.objects.filter(patient=patient, pk=consultation_pk).first()
        if consultation_pk.isdigit()
        else None
    )
    if consultation is None:
        return {}
    text = consultation.plan_protocol.casefold()
    named = [p for p in Protocol.objects.filter(active=True) if p.name.casefold() in text]
    practitioner = staff_bookable().filter(user_id=consultation.practitioner_id).first()
    return {
        "consultation": consultation.pk,
        "protocol": max(named, key=lambda p: len(p.name)).pk if named else None,
        "practitioner": practitioner.pk if practitioner else None,
        "sessions_count": consultation.plan_sessions,
        "plan_reference": consultation.plan_protocol[:200],
    }


def course_label_for_session(*, session: Session) -> str:
    """The neutral label of the course step a session fills ("Face course, session 2 of 6"),
    or "": what the booking pages show, never the protocol (Course.desk_label)."""
    step = (
        CourseStep.objects.filter(session=session)
        .select_related("course__session_type")
        .only("number", "course__sessions_count", "course__session_type__name")
        .first()
    )
    return step.course.desk_label(step.number) if step is not None else ""
