"""Messaging's reactions to events in the layers below it: a session booked, moved, cancelled,
checked in, completed or missed, and a consent given or withdrawn.

They run INSIDE the transaction of the event that causes them, so the outbox and the booking can
never disagree: a cancel that commits has cancelled its reminders, and a rolled-back booking
sends nothing. Booking and patients do not import this module: they call their hook tables
(`treatments.booking_hooks`, `patients.consent_hooks`), which `MessagingConfig.ready()` fills.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from patients.models import ConsentChange, Patient
from treatments.models import Session
from treatments.selectors import clinic_zone

from . import course_messages, timing
from .models import (
    CONSENT_REASONS,
    PRE_SESSION_KINDS,
    Kind,
    OutboxMessage,
    Reason,
    SessionConfirmation,
    Status,
)
from .outbox import initial_state, message_retime, message_schedule, messages_close
from .selectors import message_still_applies

SESSION_CHANGES = ("booked", "rescheduled", "cancelled", "arrived", "completed", "no_show")


def _timing(kind: str, session: Session, now: datetime) -> tuple[datetime, datetime]:
    if kind == Kind.CONFIRMATION:
        return now, session.starts_at
    zone = clinic_zone()
    if kind == Kind.PREPARATION:
        return max(timing.preparation_due(session.starts_at, zone), now), session.starts_at
    if kind == Kind.REMINDER:
        return timing.reminder_due(session.starts_at, zone), session.starts_at
    raise ValueError(kind)


def _retime(session: Session, kind: str, now: datetime) -> None:
    """Move the booking's preparation or reminder to the new time, or add one for it."""
    due_at, expires_at = _timing(kind, session, now)
    latest = (
        OutboxMessage.objects.select_for_update()
        .filter(session=session, kind=kind)
        .order_by("-step")
        .first()
    )
    # Not yet sent (pending, or skipped for a reason that may lift): re-time in place.
    if latest is not None and latest.status in (Status.PENDING, Status.SKIPPED):
        message_retime(
            latest, patient=session.patient, due_at=due_at, expires_at=expires_at, now=now
        )
        return
    step = 0 if latest is None else latest.step + 1
    message_schedule(
        kind=kind,
        patient=session.patient,
        session_id=session.pk,
        step=step,
        due_at=due_at,
        expires_at=expires_at,
        now=now,
    )


def messages_on_session_change(*, session: Session, change: str) -> None:
    """Keep the session's messages in step with it. Call inside the booking's transaction."""
    if change not in SESSION_CHANGES:
        raise ValueError(f"unknown session change {change!r}")
    now = timezone.now()
    rows = OutboxMessage.objects.filter(session=session)
    if change == "booked":
        for kind in PRE_SESSION_KINDS:
            due_at, expires_at = _timing(kind, session, now)
            message_schedule(
                kind=kind,
                patient=session.patient,
                session_id=session.pk,
                due_at=due_at,
                expires_at=expires_at,
                now=now,
            )
    elif change == "rescheduled":
        # A patient's confirmation belongs to the start time they confirmed: moved, the
        # session is unconfirmed until they confirm the new time's email.
        SessionConfirmation.objects.filter(session=session).exclude(
            starts_at=session.starts_at
        ).delete()
        messages_close(
            rows.filter(kind=Kind.CONFIRMATION),
            status=Status.CANCELLED,
            code=Reason.SUPERSEDED,
            reason="Superseded by the confirmation of the new time.",
            include_skipped=True,
        )
        revision = (rows.filter(kind=Kind.CONFIRMATION).aggregate(m=Max("step"))["m"] or 0) + 1
        due_at, expires_at = _timing(Kind.CONFIRMATION, session, now)
        message_schedule(
            kind=Kind.CONFIRMATION,
            patient=session.patient,
            session_id=session.pk,
            step=revision,
            due_at=due_at,
            expires_at=expires_at,
            now=now,
        )
        for kind in (Kind.PREPARATION, Kind.REMINDER):
            _retime(session, kind, now)
    elif change == "cancelled":
        messages_close(
            rows,
            status=Status.CANCELLED,
            code=Reason.SESSION_CHANGED,
            reason="The session was cancelled.",
        )
        if not rows.filter(kind=Kind.CANCELLATION).exists():
            message_schedule(
                kind=Kind.CANCELLATION,
                patient=session.patient,
                session_id=session.pk,
                due_at=now,
                expires_at=max(session.starts_at, now) + timing.AFTERCARE_USEFUL_FOR,
                now=now,
            )
    elif change == "no_show":
        messages_close(
            rows,
            status=Status.CANCELLED,
            code=Reason.SESSION_CHANGED,
            reason="The patient did not attend.",
        )
    elif change == "completed":
        messages_close(
            rows.filter(kind__in=PRE_SESSION_KINDS),
            status=Status.CANCELLED,
            code=Reason.SESSION_CHANGED,
            reason="The session has taken place.",
        )
        ended_at = session.completed_at or now
        for kind, hours in ((Kind.AFTERCARE_24H, 24), (Kind.AFTERCARE_48H, 48)):
            if rows.filter(kind=kind).exists():
                continue
            due_at = timing.aftercare_due(ended_at, hours)
            message_schedule(
                kind=kind,
                patient=session.patient,
                session_id=session.pk,
                due_at=due_at,
                expires_at=due_at + timing.AFTERCARE_USEFUL_FOR,
                now=now,
            )
    # Course messages (follow-up and maintenance nudges, course completed) follow the course's
    # steps; see course_messages.py.
    course_messages.messages_on_course_session_change(session=session, change=change, now=now)


def on_session_change(session: Session, change: str) -> None:
    """The booking hook's "messaging" slot (treatments.booking_hooks): the session's emails, and
    its course's, follow every change."""
    messages_on_session_change(session=session, change=change)


def messages_on_consent_change(*, patient: Patient, kind: str, given: bool) -> int:
    """Skip the patient's waiting messages when a consent is withdrawn; re-enable them when it is
    given again. Idempotent; call inside the consent change's transaction. Returns rows changed.
    """
    if kind == ConsentChange.Kind.EMAIL_REMINDERS:
        code = Reason.NO_CARE_CONSENT
    elif kind == ConsentChange.Kind.MARKETING:
        code = Reason.NO_MARKETING_CONSENT
    else:
        raise ValueError(f"unknown consent kind {kind!r}")
    kinds = CONSENT_REASONS[code]
    now = timezone.now()
    # The confirmation that answers the patient's own online request is not a consent-gated
    # message (outbox.message_answer_request): a consent change leaves it alone.
    rows = OutboxMessage.objects.filter(patient=patient, kind__in=kinds).exclude(
        kind=Kind.CONFIRMATION, booking_request__isnull=False
    )
    if not given:
        what = "email reminders and aftercare" if code == Reason.NO_CARE_CONSENT else "nudges"
        return messages_close(
            rows,
            status=Status.SKIPPED,
            code=code,
            reason=f"The patient withdrew consent to {what} on "
            f"{timezone.localtime(now):%d %b %Y %H:%M}.",
        )
    patient.refresh_from_db(fields=["email", "email_reminders_consent", "marketing_consent"])
    changed = 0
    for message in (
        rows.select_for_update(of=("self",))
        .filter(status=Status.SKIPPED, reason_code=code, expires_at__gt=now)
        .select_related("session", "course")
    ):
        if not message_still_applies(message):
            continue
        message.patient = patient
        message.status, message.reason_code, message.status_reason = initial_state(
            kind=message.kind,
            patient=patient,
            due_at=message.due_at,
            expires_at=message.expires_at,
            now=now,
        )
        if message.status == Status.SKIPPED and message.reason_code == Reason.BOOKED_LATE:
            # Consent came back after the reminder's time: it is still before the session, and
            # the patient has just asked for reminders, so send it now.
            message.status, message.reason_code, message.status_reason = Status.PENDING, "", ""
        message.save()
        changed += 1
    return changed


def on_consent_change(patient: Patient, kind: str, given: bool) -> None:
    """The consent hook's "messaging" slot (patients.consent_hooks): waiting emails follow the
    consent at once."""
    messages_on_consent_change(patient=patient, kind=kind, given=given)
