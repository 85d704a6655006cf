"""Reads for messaging: the staff message pages (query counts stay flat however many rows
there are), whether a message still applies before it is sent, and what a patient link may do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from patients.models import Patient
from treatments.clinical.models import Questionnaire
from treatments.courses.models import Course
from treatments.courses.planner import step_active_session
from treatments.models import Session
from treatments.online.models import BookingRequest
from treatments.selectors import clinic_get
from treatments.waitlist.models import Entry
from treatments.waitlist.selectors import offer_still_open

from . import conf
from .models import (
    ONLINE_KINDS,
    PRE_SESSION_KINDS,
    STAFF_KINDS,
    Kind,
    OutboxMessage,
    SessionConfirmation,
    Status,
)
from .tokens import LinkInvalid

ATTENTION_STATUSES = (Status.PENDING, Status.FAILED, Status.MISSED, Status.SENDING)


def messages_for_patient(*, patient: Patient) -> QuerySet[OutboxMessage]:
    """What the patient was sent. Staff alerts about the patient are not among them: the front
    desk reads this page, and an alert would tell them of a severe reaction."""
    return (
        OutboxMessage.objects.filter(patient=patient)
        .exclude(kind__in=STAFF_KINDS)
        .select_related(
            "session__practitioner__user", "session__room", "waitlist_offer", "waitlist_entry"
        )
        .order_by("-due_at", "-id")
    )


def messages_clinic_wide(*, status: str) -> QuerySet[OutboxMessage]:
    if status not in ATTENTION_STATUSES:
        status = Status.FAILED
    order = "due_at" if status in (Status.PENDING, Status.SENDING) else "-due_at"
    return (
        OutboxMessage.objects.filter(status=status)
        .select_related("patient", "session", "staff_user")
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
        "patient",
        "session__practitioner__user",
        "session__room",
        "session__session_type",
        "staff_user",
        "reaction",
        "booking_request",
        "questionnaire__session",
        "waitlist_offer__practitioner__user",
        "waitlist_offer__room",
        "waitlist_offer__session_type",
        "waitlist_entry__session_type",
    ).get(pk=pk)


def session_for_link(*, pk: object) -> Session | None:
    if not isinstance(pk, int):
        return None
    return (
        Session.objects.select_related("patient", "practitioner__user", "room")
        .filter(pk=pk)
        .first()
    )


def confirm_link_sent_for(*, payload: dict[str, Any], session: Session) -> datetime | None:
    """The start time a confirm link was sent for, if the session has moved since; else None.

    Links name the start time ("t"). Older ones name only their confirmation email ("m"): that
    row's useful moment is the start time it was written for (reactions._timing), and a newer
    confirmation of the session means it was moved since.
    """
    sent_for = payload.get("t")
    if isinstance(sent_for, int):
        if sent_for == int(session.starts_at.timestamp()):
            return None
        return datetime.fromtimestamp(sent_for, tz=UTC)
    message_id = payload.get("m")
    message = (
        OutboxMessage.objects.filter(
            pk=message_id, session_id=session.pk, kind=Kind.CONFIRMATION
        ).first()
        if isinstance(message_id, int)
        else None
    )
    if message is None or message.expires_at == session.starts_at:
        return None
    newer = OutboxMessage.objects.filter(
        session_id=session.pk, kind=Kind.CONFIRMATION, step__gt=message.step
    )
    return message.expires_at if newer.exists() else None


def session_confirmation(*, session: Session) -> SessionConfirmation | None:
    """The patient's confirmation of the session's current start time, if they gave one."""
    return (
        SessionConfirmation.objects.filter(session=session)
        .filter(Q(starts_at=session.starts_at) | Q(starts_at__isnull=True))
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


def message_still_applies(message: OutboxMessage) -> bool:
    """Whether the event the message is about still stands (re-checked before sending)."""
    session = message.session
    if message.kind == Kind.QUESTIONNAIRE:
        questionnaire = message.questionnaire
        return questionnaire is not None and questionnaire.status == Questionnaire.Status.OPEN
    if message.kind == Kind.QUESTIONNAIRE_ALERT:
        # Until a practitioner has confirmed or corrected the answers.
        questionnaire = message.questionnaire
        return questionnaire is not None and questionnaire.status == Questionnaire.Status.ANSWERED
    if message.kind in STAFF_KINDS:
        # Once a practitioner has acknowledged the reaction, the others need not be alerted.
        return message.reaction is not None and message.reaction.acknowledged_at is None
    if message.kind in PRE_SESSION_KINDS:
        if session is None or session.status != Session.Status.BOOKED:
            return False
        newer = OutboxMessage.objects.filter(
            session_id=session.pk, kind=message.kind, step__gt=message.step
        )
        return not newer.exists()
    if message.kind == Kind.CANCELLATION:
        return session is not None and session.status == Session.Status.CANCELLED
    if message.kind in (Kind.AFTERCARE_24H, Kind.AFTERCARE_48H):
        return session is not None and session.status == Session.Status.COMPLETED
    if message.kind == Kind.WAITLIST_OFFER:
        offer = message.waitlist_offer
        return offer is not None and offer_still_open(offer)
    if message.kind == Kind.WAITLIST_JOIN:
        entry = message.waitlist_entry
        return entry is not None and entry.status == Entry.Status.AWAITING_EMAIL
    if message.kind in ONLINE_KINDS:
        return online_message_applies(message)
    return course_message_applies(message)


# The request's state each online message is about; once the request has moved on (clicked,
# decided, expired), a message still waiting would tell the person something no longer true.
_ONLINE_APPLIES_WHILE: dict[Kind, tuple[str, ...]] = {
    Kind.ONLINE_VERIFY: (BookingRequest.Status.AWAITING_EMAIL,),
    Kind.ONLINE_RECEIVED: (BookingRequest.Status.REQUESTED,),
    Kind.ONLINE_APPROVED: (BookingRequest.Status.APPROVED,),
    # Declined by the desk, or closed by the tick when never decided before its start.
    Kind.ONLINE_DECLINED: (BookingRequest.Status.DECLINED, BookingRequest.Status.EXPIRED),
}


def online_message_applies(message: OutboxMessage) -> bool:
    request = message.booking_request
    if request is None or request.status not in _ONLINE_APPLIES_WHILE[Kind(message.kind)]:
        return False
    if message.kind == Kind.ONLINE_APPROVED:
        # It carries the booking's details: only while the session is still booked.
        session = message.session
        return session is not None and session.status == Session.Status.BOOKED
    return True


def course_message_applies(message: OutboxMessage) -> bool:
    course = message.course
    if course is None or course.status == Course.Status.STOPPED:
        return False
    if message.kind in (Kind.FOLLOW_UP, Kind.FOLLOW_UP_AGAIN):
        step = course.steps.select_related("session").filter(number=message.step).first()
        return (
            course.status == Course.Status.ACTIVE
            and step is not None
            and (step_active_session(step) is None)
        )
    if message.kind == Kind.MAINTENANCE:
        return not Session.objects.filter(
            patient_id=course.patient_id,
            status=Session.Status.BOOKED,
            starts_at__gt=timezone.now(),
        ).exists()
    return message.kind == Kind.COURSE_COMPLETED


# What a patient reads when a link reaches an appointment that is no longer simply booked.
_STATUS_FOR_PATIENT = {
    Session.Status.BOOKED: "This appointment is booked.",
    Session.Status.ARRIVED: "This appointment has already started.",
    Session.Status.COMPLETED: "This appointment has already taken place.",
    Session.Status.CANCELLED: "This appointment has been cancelled.",
    Session.Status.NO_SHOW: "The time of this appointment has passed.",
}


def status_for_patient(session: Session) -> str:
    """The session's state in a sentence for the patient (never the desk's status label)."""
    return _STATUS_FOR_PATIENT.get(
        Session.Status(session.status), "This appointment can no longer be changed."
    )


def cancel_blocked_reason(session: Session, now: datetime | None = None) -> str:
    """Why the patient cannot cancel this session through a link, or "" if they can."""
    now = now or timezone.now()
    if session.status != Session.Status.BOOKED:
        return status_for_patient(session)
    hours = conf.cancel_notice_hours()
    if session.starts_at - now < timedelta(hours=hours):
        phone = clinic_get().phone
        call = f" on {phone}" if phone else ""
        return (
            f"Appointments can be cancelled online up to {hours} hours before they start. "
            f"Please call the clinic{call} instead."
        )
    return ""
