"""Course messages: follow-up nudges, maintenance nudges and "course completed".

Built on treatments.courses (Course, CourseStep, the planner). Rules:
- When step k of a course is completed and step k+1 is not booked, a follow-up nudge is due at
  MESSAGING_SEND_HOUR (09:00) local time on the day step k+1's window opens (local date of step k
  + the course's minimum interval), and a second one MESSAGING_FOLLOW_UP_REPEAT_DAYS (7) days
  later; both are useful until the window closes. A step that becomes unbooked again (its session
  cancelled or a no-show) gets its nudges (re)scheduled the same way.
- Once the step is booked, its nudges no longer apply: the booking cancels them in its own
  transaction (outbox.messages_on_course_step_booked), so the outbox is right at once; the
  dispatcher's re-check before sending stays as the backstop.
- When the last step is completed: "course completed" at once, and a maintenance nudge at 09:00
  local time on the course's maintenance date (last session's local date + maintenance interval,
  as courses.selectors.maintenance_due_for computes it). It no longer applies once the patient has
  another session booked.
- A stopped course (perhaps after a reaction) cancels all its waiting messages at once.
Nudges need marketing consent; "course completed" is care (email reminders consent).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from treatments.courses.models import Course, CourseStep
from treatments.courses.planner import SlotCalendar, step_active_session
from treatments.courses.selectors import maintenance_due_for
from treatments.models import Clinic, Session
from treatments.selectors import clinic_zone

from . import conf, timing
from .models import Kind, OutboxMessage, Status
from .outbox import message_retime, message_schedule

OFFERED_SLOTS = 6


def _upsert(
    *, kind: str, course: Course, step: int, due_at: datetime, expires_at: datetime, now: datetime
) -> None:
    existing = OutboxMessage.objects.select_for_update().filter(kind=kind, course=course, step=step)
    row = existing.first()
    if row is None:
        message_schedule(
            kind=kind,
            patient=course.patient,
            course_id=course.pk,
            step=step,
            due_at=due_at,
            expires_at=expires_at,
            now=now,
        )
        return
    if row.status in (Status.SENT, Status.SENDING):
        return  # already told about this step
    message_retime(row, patient=course.patient, due_at=due_at, expires_at=expires_at, now=now)


def _follow_up(*, course: Course, number: int, previous: Session, now: datetime) -> None:
    zone = clinic_zone()
    day = previous.starts_at.astimezone(zone).date()
    opens = day + timedelta(days=course.interval_min_days)
    closes = day + timedelta(days=course.interval_max_days)
    first = max(timing.local_at(opens, conf.send_hour(), zone), now)
    expires = timing.local_at(closes + timedelta(days=1), 0, zone)
    second = first + timedelta(days=conf.follow_up_repeat_days())
    for kind, due in ((Kind.FOLLOW_UP, first), (Kind.FOLLOW_UP_AGAIN, second)):
        if due < expires:
            _upsert(kind=kind, course=course, step=number, due_at=due, expires_at=expires, now=now)


def messages_on_course_session_change(*, session: Session, change: str, now: datetime) -> None:
    if change not in ("completed", "cancelled", "no_show"):
        return
    link = (
        CourseStep.objects.filter(session_id=session.pk).select_related("course__patient").first()
    )
    if link is None:
        return
    course = link.course
    if course.status == Course.Status.STOPPED:
        return
    steps = list(course.steps.select_related("session").order_by("number"))
    by_number = {step.number: step for step in steps}
    if change == "completed":
        if all(
            s.session_id == session.pk
            or (s.session is not None and s.session.status == Session.Status.COMPLETED)
            for s in steps
        ):
            _course_completed(course=course, last=session, now=now)
            return
        following = by_number.get(link.number + 1)
        if following is not None and step_active_session(following) is None:
            _follow_up(course=course, number=following.number, previous=session, now=now)
        return
    # Cancelled or no-show: this step is unbooked again.
    before = by_number.get(link.number - 1)
    if before is not None and before.session and before.session.status == Session.Status.COMPLETED:
        _follow_up(course=course, number=link.number, previous=before.session, now=now)


def _course_completed(*, course: Course, last: Session, now: datetime) -> None:
    _upsert(
        kind=Kind.COURSE_COMPLETED,
        course=course,
        step=0,
        due_at=now,
        expires_at=now + timing.NUDGE_USEFUL_FOR,
        now=now,
    )
    due = timing.local_at(maintenance_due_for(course, last), conf.send_hour(), clinic_zone())
    _upsert(
        kind=Kind.MAINTENANCE,
        course=course,
        step=0,
        due_at=due,
        expires_at=due + timing.NUDGE_USEFUL_FOR,
        now=now,
    )


def offered_slots(
    course: Course, number: int | None, *, limit: int = OFFERED_SLOTS
) -> list[datetime]:
    """Free starts for step `number` in its window (or from today if it has closed), or for a
    maintenance session (`number` None) over the next four weeks; at most two a day. Booking
    re-checks everything under the booking service's locks.
    """
    zone = clinic_zone()
    now = timezone.now()
    steps = {s.number: s for s in course.steps.select_related("session")}
    previous = steps.get(number - 1) if number is not None else None
    today = now.astimezone(zone).date()
    first = today
    last = today + timedelta(days=28)
    if previous is not None and previous.session is not None:
        day = previous.session.starts_at.astimezone(zone).date()
        first = max(today, day + timedelta(days=course.interval_min_days))
        last = max(first, day + timedelta(days=course.interval_max_days))
        if last < first + timedelta(days=6):
            last = first + timedelta(days=6)
    days = (last - first).days + 1
    calendar = SlotCalendar(course=course, first_day=first, days=days, zone=zone, now=now)
    offered: list[datetime] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        free = calendar.candidates(day)
        # Two per day: one in the morning, one later, so the patient has a real choice.
        picks = free[:1] + [s for s in free if s.astimezone(zone).hour >= 13][:1]
        offered.extend(dict.fromkeys(picks))
        if len(offered) >= limit:
            break
    return offered[:limit]


def course_context(message: OutboxMessage, *, course: Course, clinic: Clinic) -> dict[str, Any]:
    """The template values of a message about `course` (the message's own course)."""
    ctx: dict[str, Any] = {
        "course": course,
        "practitioner": course.practitioner.display_name,
        "sessions_count": course.sessions_count,
        "step_number": message.step,
    }
    if message.kind in (Kind.FOLLOW_UP, Kind.FOLLOW_UP_AGAIN):
        ctx["offered"] = [s.astimezone(clinic.zone) for s in offered_slots(course, message.step)][
            :3
        ]
        ctx["window_closes"] = message.expires_at.astimezone(clinic.zone) - timedelta(days=1)
    if message.kind == Kind.MAINTENANCE:
        ctx["maintenance_due"] = course.maintenance_due
    return ctx
