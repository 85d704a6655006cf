"""Outbox primitives: add a row, close waiting rows, re-time a row, and say why one cannot go.

They need only the messaging models and the patient's consent flags, so every writer in the
project can call them inside its own transaction (booking and course reactions, consent
changes, staff retry). Rows name their session and course by id: this module sits below
booking and courses and never imports them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mesoclinic.errors import DomainError
from patients.models import Patient

from .models import (
    NUDGE_KINDS,
    ONLINE_KINDS,
    REQUESTED_KINDS,
    STAFF_KINDS,
    Kind,
    OutboxMessage,
    Reason,
    Status,
)

log = logging.getLogger(__name__)

REASON_TEXT: dict[str, str] = {
    Reason.NO_EMAIL: "The patient has no email address on file.",
    Reason.NO_CARE_CONSENT: "The patient has not consented to email reminders and aftercare.",
    Reason.NO_MARKETING_CONSENT: "The patient has not consented to follow-up nudges.",
    Reason.BOOKED_LATE: "Booked after the reminder time; the confirmation covers it.",
    Reason.PAST_USEFUL: "Past its useful moment; not sent late.",
}


STAFF_REASON_TEXT = {
    Reason.NO_EMAIL: "The member of staff has no email address on file.",
    Reason.NOT_APPLICABLE: "The member of staff's account is deactivated.",
}
# A staff alert is about something happening now: after a day it is stale, and the dashboard
# shows the reaction until it is acknowledged anyway.
STAFF_ALERT_USEFUL_FOR = timedelta(hours=24)


def answers_online_request(message: OutboxMessage) -> bool:
    """Whether the row answers what the person asked for on the online booking page (the
    online kinds, and the first confirmation of a session an online request booked)."""
    return message.kind in ONLINE_KINDS or (
        message.kind == Kind.CONFIRMATION and message.booking_request_id is not None
    )


def recipient_email(message: OutboxMessage) -> str:
    """Where the row goes: its member of staff (staff kinds), the address typed on the booking
    page (answers to an online request), else the patient."""
    if message.kind in STAFF_KINDS:
        return message.staff_user.email if message.staff_user is not None else ""
    if answers_online_request(message) and message.to_email:
        return message.to_email
    return message.patient.email if message.patient is not None else ""


def message_block(message: OutboxMessage) -> tuple[str, str]:
    """(reason code, sentence) that stops the row reaching its recipient now, or ("", "")."""
    if message.kind in STAFF_KINDS:
        user = message.staff_user
        if user is None or not user.email:
            return Reason.NO_EMAIL, STAFF_REASON_TEXT[Reason.NO_EMAIL]
        if not user.is_active:
            return Reason.NOT_APPLICABLE, STAFF_REASON_TEXT[Reason.NOT_APPLICABLE]
        return "", ""
    if answers_online_request(message):
        # Sent at the person's own request to the address they gave: no consent gate.
        if not recipient_email(message):
            return Reason.NO_EMAIL, REASON_TEXT[Reason.NO_EMAIL]
        return "", ""
    code = block_reason(message.kind, message.patient)
    return code, REASON_TEXT[code] if code else ""


def block_reason(kind: str, patient: Patient | None) -> str:
    """The reason code that stops `kind` reaching `patient` now, or ""."""
    if kind in ONLINE_KINDS:
        return ""  # sent to the address the person typed, at their own request
    if patient is None or not patient.email:
        return Reason.NO_EMAIL
    if kind in REQUESTED_KINDS:
        return ""  # the patient asked for it (the waiting list): no consent gate
    if kind in NUDGE_KINDS:
        return "" if patient.marketing_consent else Reason.NO_MARKETING_CONSENT
    return "" if patient.email_reminders_consent else Reason.NO_CARE_CONSENT


def initial_state(
    *, kind: str, patient: Patient | None, due_at: datetime, expires_at: datetime, now: datetime
) -> tuple[str, str, str]:
    """(status, reason code, reason text) for a row that would be due at `due_at`."""
    code = block_reason(kind, patient)
    if code:
        return Status.SKIPPED, code, REASON_TEXT[code]
    if expires_at <= now:
        return Status.MISSED, Reason.PAST_USEFUL, REASON_TEXT[Reason.PAST_USEFUL]
    if kind == Kind.REMINDER and due_at <= now:
        return Status.SKIPPED, Reason.BOOKED_LATE, REASON_TEXT[Reason.BOOKED_LATE]
    return Status.PENDING, "", ""


def message_schedule(
    *,
    kind: str,
    patient: Patient | None,
    due_at: datetime,
    expires_at: datetime,
    session_id: int | None = None,
    course_id: int | None = None,
    booking_request_id: int | None = None,
    questionnaire_id: int | None = None,
    waitlist_entry_id: int | None = None,
    waitlist_offer_id: int | None = None,
    to_email: str = "",
    step: int = 0,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add one row; skipped at once (with the reason) when consent or an address is missing."""
    now = now or timezone.now()
    status, code, reason = initial_state(
        kind=kind, patient=patient, due_at=due_at, expires_at=expires_at, now=now
    )
    return OutboxMessage.objects.create(
        kind=kind,
        patient=patient,
        session_id=session_id,
        course_id=course_id,
        booking_request_id=booking_request_id,
        questionnaire_id=questionnaire_id,
        waitlist_entry_id=waitlist_entry_id,
        waitlist_offer_id=waitlist_offer_id,
        to_email=to_email,
        step=step,
        due_at=due_at,
        expires_at=expires_at,
        status=status,
        reason_code=code,
        status_reason=reason,
    )


def staff_alert_schedule(
    *,
    kind: str,
    patient: Patient,
    staff_user: User,
    reaction_id: int | None = None,
    questionnaire_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """One alert to one member of staff about a patient's reaction (or the answers of their
    health questionnaire), due at once.

    Idempotent: the row already scheduled for this reaction and person is returned as it is
    (a reaction raised to severe twice alerts each person once). The patient's consents do not
    apply: the email goes to staff, about care the clinic owes the patient.
    """
    if kind not in STAFF_KINDS:
        raise ValueError(f"{kind!r} is not a staff message")
    if (reaction_id is None) == (questionnaire_id is None):
        raise ValueError("a staff alert is about one reaction or one questionnaire")
    now = now or timezone.now()
    about: dict[str, int] = (
        {"reaction_id": reaction_id}
        if reaction_id is not None
        else {"questionnaire_id": questionnaire_id or 0}
    )
    existing = OutboxMessage.objects.filter(kind=kind, staff_user=staff_user, **about).first()
    if existing is not None:
        return existing
    message = OutboxMessage(
        kind=kind,
        patient=patient,
        staff_user=staff_user,
        reaction_id=reaction_id,
        questionnaire_id=questionnaire_id,
        due_at=now,
        expires_at=now + STAFF_ALERT_USEFUL_FOR,
    )
    message.reason_code, message.status_reason = message_block(message)
    message.status = Status.SKIPPED if message.reason_code else Status.PENDING
    message.save()
    return message


def message_answer_request(*, session_id: int, booking_request_id: int, to_email: str) -> int:
    """Make the session's first confirmation the answer to the online request that booked it.

    The person asked for this booking on the public page and proved the address by clicking the
    emailed link: confirming what they just booked is the answer to their own request (like the
    verification email itself), not a reminder, so it goes to that address whether or not they
    ticked "reminders and aftercare". Later messages (preparation, day-before reminder,
    aftercare, a confirmation after the desk moves the session) are the clinic's own care
    messages and keep their consent gate (DOMAIN.md, "Messages the patient receives").
    Call inside the booking's transaction, after `session_book`. Returns the rows changed.
    """
    return (
        OutboxMessage.objects.filter(session_id=session_id, kind=Kind.CONFIRMATION, step=0)
        .filter(
            Q(status=Status.PENDING) | Q(status=Status.SKIPPED, reason_code=Reason.NO_CARE_CONSENT)
        )
        .update(
            booking_request_id=booking_request_id,
            to_email=to_email,
            status=Status.PENDING,
            reason_code="",
            status_reason="",
            updated_at=timezone.now(),
        )
    )


def messages_close(
    rows: QuerySet[OutboxMessage],
    *,
    status: str,
    code: str,
    reason: str,
    include_skipped: bool = False,
) -> int:
    """Close the rows still waiting (and, with `include_skipped`, the skipped ones)."""
    statuses = [Status.PENDING, Status.SKIPPED] if include_skipped else [Status.PENDING]
    return rows.filter(status__in=statuses).update(
        status=status,
        reason_code=code,
        status_reason=reason[:200],
        retry_at=None,
        updated_at=timezone.now(),
    )


def message_retime(
    row: OutboxMessage, *, patient: Patient, due_at: datetime, expires_at: datetime, now: datetime
) -> None:
    """Give an unsent row its new time and re-decide, as for a new one, whether it can go."""
    row.due_at, row.expires_at, row.retry_at = due_at, expires_at, None
    row.status, row.reason_code, row.status_reason = initial_state(
        kind=row.kind, patient=patient, due_at=due_at, expires_at=expires_at, now=now
    )
    row.save()


def messages_on_course_step_booked(*, course_id: int, step_number: int) -> int:
    """Cancel the step's follow-up nudges now that it is booked; returns how many were closed.

    Called by the course services inside the step booking's transaction, so no nudge for the
    step is sent after it is booked, nor survives a booking that rolls back. Skipped ones too
    (no marketing consent): otherwise giving consent later would revive a nudge for a session
    that is already booked.
    """
    return messages_close(
        OutboxMessage.objects.filter(
            course_id=course_id,
            step=step_number,
            kind__in=(Kind.FOLLOW_UP, Kind.FOLLOW_UP_AGAIN),
        ),
        status=Status.CANCELLED,
        code=Reason.NOT_APPLICABLE,
        reason=f"Session {step_number} of the course was booked.",
        include_skipped=True,
    )


def messages_on_course_stopped(*, course_id: int) -> int:
    """Cancel every message still waiting for a stopped course (nudges, maintenance)."""
    return messages_close(
        OutboxMessage.objects.filter(course_id=course_id),
        status=Status.CANCELLED,
        code=Reason.NOT_APPLICABLE,
        reason="The course was stopped.",
        include_skipped=True,
    )


def message_retry(*, message: OutboxMessage, by: User | None = None) -> OutboxMessage:
    """Send a failed message again at the next dispatcher run."""
    with transaction.atomic():
        current = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if current.status != Status.FAILED:
            raise DomainError(
                f"Only a failed message can be retried; this one is "
                f"{current.get_status_display().lower()}."
            )
        if current.expires_at <= timezone.now():
            raise DomainError(
                "This message is past its useful moment (for example the session has already "
                "started), so it will not be sent. Contact the patient directly if needed."
            )
        current.status = Status.PENDING
        current.attempts = 0
        current.retry_at = None
        current.reason_code = ""
        who = by.get_username() if by is not None and by.is_authenticated else "staff"
        current.status_reason = f"Retry requested by {who}."[:200]
        current.save()
    log.info("outbox message %s retried by user %s", current.pk, getattr(by, "pk", None))
    return current
