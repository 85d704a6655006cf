"""Writes to the outbox: scheduling on booking events and consent changes, staff retry,
and the actions behind the patients' signed links.

`messages_on_session_change` and `messages_on_consent_change` are called INSIDE the transaction
of the event that causes them (treatments.services.booking, patients.services), so the outbox
and the booking can never disagree: a cancel that commits has cancelled its reminders.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mesoclinic.errors import DomainError
from patients.models import ConsentChange, Patient
from treatments.models import Session

from . import conf, course_messages, timing, tokens
from .models import (
    CONSENT_REASONS,
    NUDGE_KINDS,
    PRE_SESSION_KINDS,
    Kind,
    OutboxMessage,
    Reason,
    SessionConfirmation,
    Status,
)
from .selectors import nudge_for_link

log = logging.getLogger(__name__)

REASON_TEXT = {
    Reason.NO_EMAIL: "The patient has no email address on file.",
    Reason.NO_CARE_CONSENT: "The patient has not consented to email reminders and aftercare.",
    Reason.NO_MARKETING_CONSENT: "The patient has not consented to follow-up nudges.",
    Reason.BOOKED_LATE: "Booked after the reminder time; the confirmation covers it.",
    Reason.PAST_USEFUL: "Past its useful moment; not sent late.",
}
SESSION_CHANGES = ("booked", "rescheduled", "cancelled", "arrived", "completed", "no_show")


def block_reason(kind: str, patient: Patient) -> str:
    """The reason code that stops `kind` reaching `patient` now, or ""."""
    if not patient.email:
        return Reason.NO_EMAIL
    if kind in NUDGE_KINDS:
        return "" if patient.marketing_consent else Reason.NO_MARKETING_CONSENT
    return "" if patient.email_reminders_consent else Reason.NO_CARE_CONSENT


def _initial_state(
    *, kind: str, patient: Patient, due_at: datetime, expires_at: datetime, now: datetime
) -> tuple[str, str, str]:
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
    patient: Patient,
    due_at: datetime,
    expires_at: datetime,
    session: Session | None = None,
    course: Any = None,
    step: int = 0,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add one row; skipped at once (with the reason) when consent or an address is missing."""
    now = now or timezone.now()
    status, code, reason = _initial_state(
        kind=kind, patient=patient, due_at=due_at, expires_at=expires_at, now=now
    )
    return OutboxMessage.objects.create(
        kind=kind,
        patient=patient,
        session=session,
        course=course,
        step=step,
        due_at=due_at,
        expires_at=expires_at,
        status=status,
        reason_code=code,
        status_reason=reason,
    )


def _timing(kind: str, session: Session, now: datetime) -> tuple[datetime, datetime]:
    from treatments.selectors import clinic_zone

    if kind == Kind.CONFIRMATION:
        return now, session.starts_at
    zone = clinic_zone()
    if kind == Kind.PREPARATION:
        return max(timing.preparation_due(session.starts_at, zone), now), session.starts_at
    if kind == Kind.REMINDER:
        return timing.reminder_due(session.starts_at, zone), session.starts_at
    raise ValueError(kind)


def _close_pending(
    qs: Any, *, status: str, code: str, reason: str, include_skipped: bool = False
) -> int:
    statuses = [Status.PENDING, Status.SKIPPED] if include_skipped else [Status.PENDING]
    return qs.filter(status__in=statuses).update(
        status=status,
        reason_code=code,
        status_reason=reason[:200],
        retry_at=None,
        updated_at=timezone.now(),
    )


def _retime_in_place(
    row: OutboxMessage, *, patient: Patient, due_at: datetime, expires_at: datetime, now: datetime
) -> None:
    """Give an unsent row its new time and re-decide, as for a new one, whether it can go."""
    row.due_at, row.expires_at, row.retry_at = due_at, expires_at, None
    row.status, row.reason_code, row.status_reason = _initial_state(
        kind=row.kind, patient=patient, due_at=due_at, expires_at=expires_at, now=now
    )
    row.save()


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
        _retime_in_place(
            latest, patient=session.patient, due_at=due_at, expires_at=expires_at, now=now
        )
        return
    step = 0 if latest is None else latest.step + 1
    message_schedule(
        kind=kind,
        patient=session.patient,
        session=session,
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
                session=session,
                due_at=due_at,
                expires_at=expires_at,
                now=now,
            )
    elif change == "rescheduled":
        _close_pending(
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
            session=session,
            step=revision,
            due_at=due_at,
            expires_at=expires_at,
            now=now,
        )
        for kind in (Kind.PREPARATION, Kind.REMINDER):
            _retime(session, kind, now)
    elif change == "cancelled":
        _close_pending(
            rows,
            status=Status.CANCELLED,
            code=Reason.SESSION_CHANGED,
            reason="The session was cancelled.",
        )
        if not rows.filter(kind=Kind.CANCELLATION).exists():
            message_schedule(
                kind=Kind.CANCELLATION,
                patient=session.patient,
                session=session,
                due_at=now,
                expires_at=max(session.starts_at, now) + timing.AFTERCARE_USEFUL_FOR,
                now=now,
            )
    elif change == "no_show":
        _close_pending(
            rows,
            status=Status.CANCELLED,
            code=Reason.SESSION_CHANGED,
            reason="The patient did not attend.",
        )
    elif change == "completed":
        _close_pending(
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
                session=session,
                due_at=due_at,
                expires_at=due_at + timing.AFTERCARE_USEFUL_FOR,
                now=now,
            )
    # Course messages (follow-up and maintenance nudges, course completed) follow the course's
    # steps; see course_messages.py.
    course_messages.messages_on_course_session_change(session=session, change=change, now=now)


def messages_on_course_step_booked(*, course: Any, step: Any) -> int:
    """Cancel a course step's pending follow-up nudges. Call inside the step booking's transaction
    (treatments.courses.services.course_book_step does)."""
    return course_messages.messages_on_course_step_booked(course=course, step=step)


def messages_on_course_stopped(*, course: Any) -> int:
    """Cancel a stopped course's waiting messages. Call inside course_stop's transaction."""
    return course_messages.messages_on_course_stopped(course=course)


def message_still_applies(message: OutboxMessage) -> bool:
    """Whether the event the message is about still stands (re-checked before sending)."""
    session = message.session
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
    return course_messages.course_message_applies(message)


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
    rows = OutboxMessage.objects.filter(patient=patient, kind__in=kinds)
    if not given:
        what = "email reminders and aftercare" if code == Reason.NO_CARE_CONSENT else "nudges"
        return _close_pending(
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
        message.status, message.reason_code, message.status_reason = _initial_state(
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


def message_retry(*, message: OutboxMessage, by: Any = None) -> OutboxMessage:
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
        current.status_reason = f"Retry requested by {getattr(by, 'username', 'staff')}."[:200]
        current.save()
    log.info("outbox message %s retried by user %s", current.pk, getattr(by, "pk", None))
    return current


# ---- Patient links ---------------------------------------------------------------------------


def _linked_session(payload: dict[str, Any]) -> Session:
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("patient", "practitioner__user", "room", "session_type")
        .filter(pk=payload.get("s"))
        .first()
    )
    if session is None:
        raise tokens.LinkInvalid()
    return session


def cancel_blocked_reason(session: Session, now: datetime | None = None) -> str:
    """Why the patient cannot cancel this session through a link, or "" if they can."""
    from treatments.selectors import clinic_get

    now = now or timezone.now()
    if session.status != Session.Status.BOOKED:
        return f"This appointment is already {session.get_status_display().lower()}."
    hours = conf.cancel_notice_hours()
    if session.starts_at - now < timedelta(hours=hours):
        phone = clinic_get().phone
        call = f" on {phone}" if phone else ""
        return (
            f"Appointments can be cancelled online up to {hours} hours before they start. "
            f"Please call the clinic{call} instead."
        )
    return ""


def link_session_confirm(*, token: str) -> Session:
    with transaction.atomic():
        payload = tokens.link_use(action="confirm", token=token)
        session = _linked_session(payload)
        if session.status != Session.Status.BOOKED:
            raise DomainError(
                f"This appointment is {session.get_status_display().lower()}, so there is "
                "nothing to confirm."
            )
        SessionConfirmation.objects.get_or_create(
            session=session, defaults={"confirmed_at": timezone.now()}
        )
    return session


def link_session_cancel(*, token: str) -> Session:
    from treatments.services.booking import session_cancel

    with transaction.atomic():
        payload = tokens.link_use(action="cancel", token=token)
        session = _linked_session(payload)
        blocked = cancel_blocked_reason(session)
        if blocked:
            raise DomainError(blocked)
        session = session_cancel(
            session=session, reason="Cancelled by the patient through the email link.", by=None
        )
    log.info("session %s cancelled by the patient through a signed link", session.pk)
    return session


def link_unsubscribe(*, token: str) -> Patient:
    from patients.services import patient_consent_set

    with transaction.atomic():
        payload = tokens.link_use(action="unsubscribe", token=token)
        patient = Patient.objects.filter(pk=payload.get("p")).first()
        if patient is None:
            raise tokens.LinkInvalid()
        patient_consent_set(
            patient=patient,
            kind=ConsentChange.Kind.MARKETING,
            given=False,
            by=None,
            source="email link",
        )
    return patient


def link_reaction_report(
    *, token: str, type: str, severity: str, onset: datetime, description: str
) -> Any:
    """The patient's own report lands in the clinical reactions list (source "patient"); a
    severe one is on the practitioners' dashboard the same day (clinical_dashboard)."""
    from treatments.clinical.services.reactions import reaction_report

    with transaction.atomic():
        payload = tokens.link_use(action="reaction", token=token)
        session = _linked_session(payload)
        if session.patient_id != payload.get("p"):
            raise tokens.LinkInvalid()
        reaction = reaction_report(
            session=session,
            patient=session.patient,
            type=type,
            severity=severity,
            onset=onset,
            description=description,
            source="patient",
            reported_by=None,
        )
    level = logging.WARNING if severity == "severe" else logging.INFO
    log.log(
        level,
        "patient reported a %s reaction %s after session %s",
        severity,
        reaction.pk,
        session.pk,
    )
    return reaction


def link_book_slot(*, token: str, starts_at: datetime) -> Session:
    """Book the course step (or the maintenance session) the nudge was about, at a free time the
    page offered; the booking service re-checks the slot under its locks."""
    from treatments.courses.services import course_book_step, room_for_slot
    from treatments.services.booking import session_book

    with transaction.atomic():
        payload = tokens.link_use(action="book", token=token)
        message, course = nudge_for_link(payload=payload)
        if message.kind == Kind.MAINTENANCE:
            return session_book(
                patient=course.patient,
                session_type=course.session_type,
                practitioner=course.practitioner,
                room=room_for_slot(course, starts_at),
                starts_at=starts_at,
                notes=f"{course.protocol.name}: maintenance (booked by the patient)"[:500],
            )
        booking = course_book_step(course=course, step_number=message.step, starts_at=starts_at)
    return booking.session
