"""How courses react to a session's change: the booking hook's "courses" slot
(treatments.booking_hooks), filled in CoursesConfig.ready().

Booking calls it inside its own transaction, so a course is completed, with its maintenance due
date, in the same commit as its last session; a rolled-back completion leaves it active.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from treatments.booking_hooks import SessionChange
from treatments.models import Session

from .models import Course, CourseStep
from .selectors import maintenance_due_for


def on_session_change(session: Session, change: SessionChange) -> None:
    if change == "completed":
        course_on_session_completed(session=session)


def course_on_session_completed(*, session: Session) -> Course | None:
    step = CourseStep.objects.filter(session_id=session.pk).only("course_id").first()
    if step is None:
        return None
    with transaction.atomic():
        course = Course.objects.select_for_update(of=("self",)).get(pk=step.course_id)
        if course.status != Course.Status.ACTIVE:
            return course
        steps = list(course.steps.select_related("session").order_by("number"))
        sessions = [s.session for s in steps if s.session is not None]
        if len(sessions) < len(steps) or any(
            s.status != Session.Status.COMPLETED for s in sessions
        ):
            return course
        last = max(sessions, key=lambda s: s.completed_at or s.starts_at)
        course.status = Course.Status.COMPLETED
        course.completed_at = timezone.now()
        course.maintenance_due = maintenance_due_for(course, last)
        course.save(update_fields=["status", "completed_at", "maintenance_due", "updated_at"])
    return course
