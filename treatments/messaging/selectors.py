"""Reads for the staff message pages. Query counts stay flat however many rows there are."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from patients.models import Patient
from treatments.courses.models import Course
from treatments.models import Session

from .models import OutboxMessage, Status
from .tokens import LinkInvalid

ATTENTION_STATUSES = (Status.PENDING, Status.FAILED, Status.MISSED, Status.SENDING)


def messages_for_patient(*, patient: Patient) -> QuerySet[OutboxMessage]:
    return (
        OutboxMessage.objects.filter(patient=patient)
        .select_related("session__practitioner__user", "session__room")
        .order_by("-due_at", "-id")
    )


def messages_clinic_wide(*, status: str) -> QuerySet[OutboxMessage]:
    if status not in ATTENTION_STATUSES:
        status = Status.FAILED
    order = "due_at" if status in (Status.PENDING, Status.SENDING) else "-due_at"
    return (
        OutboxMessage.objects.filter(status=status)
        .select_related("patient", "session")
        .order_by(order, "id")
    )


def messages_status_counts() -> dict[str, int]:
    rows = (
        OutboxMessage.objects.filter(status__in=ATTENTION_STATUSES)
        .values("status")
        .annotate(n=Count("id"))
    )
    counts: dict[str, int] = dict.fromkeys(ATTENTION_STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def message_get(*, pk: int) -> OutboxMessage:
    return OutboxMessage.objects.select_related(
        "patient", "session__practitioner__user", "session__room", "session__session_type"
    ).get(pk=pk)


def session_for_link(*, pk: object) -> Session | None:
    if not isinstance(pk, int):
        return None
    return (
        Session.objects.select_related("patient", "practitioner__user", "room")
        .filter(pk=pk)
        .first()
    )


def nudge_for_link(*, payload: dict[str, Any]) -> tuple[OutboxMessage, Course]:
    """The nudge a book-next-session link came from, and its course; LinkInvalid if either is
    gone or the course is not the patient's."""
    message_pk, course_pk, patient_pk = payload.get("m"), payload.get("c"), payload.get("p")
    if not (
        isinstance(message_pk, int) and isinstance(course_pk, int) and isinstance(patient_pk, int)
    ):
        raise LinkInvalid()
    message = OutboxMessage.objects.filter(pk=message_pk).first()
    course = (
        Course.objects.select_related(
            "patient", "practitioner__user", "session_type", "room", "protocol"
        )
        .filter(pk=course_pk, patient_id=patient_pk)
        .first()
    )
    if message is None or course is None:
        raise LinkInvalid()
    return message, course
