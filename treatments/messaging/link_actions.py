"""What the patients' signed links do: confirm, cancel, stop nudges, report a reaction, book the
next session. Each spends its single-use link and acts through the owning app's service, in one
transaction, so a refused action leaves the link unspent.

The top of the messaging app: only the link views import it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from mesoclinic.errors import BookingHeld, DomainError
from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from treatments.clinical.models import Reaction
from treatments.clinical.services.reactions import reaction_report
from treatments.courses.selectors import room_for_slot
from treatments.courses.services import course_book_step
from treatments.models import Session
from treatments.services.booking import session_book, session_cancel

from . import tokens
from .models import Kind, OutboxMessage, PatientCancellation, SessionConfirmation
from .selectors import (
    cancel_blocked_reason,
    confirm_link_sent_for,
    nudge_for_link,
    status_for_patient,
)

log = logging.getLogger(__name__)


class BookByPhone(tokens.LinkError):
    """A "do not book" hold refused the patient's own booking: a neutral page, no reason (the
    desk's message names a practitioner; the patient is only asked to call). Raised inside the
    link's transaction, so the link stays unspent."""

    title = "Please call the clinic to book"
    message = (
        "We cannot book this session online. Please call the clinic and we will find a time "
        "with you."
    )
    status = 200


def _payload_id(payload: dict[str, Any], key: str) -> int:
    """The id the signed payload carries under `key`; LinkInvalid if it carries none."""
    value = payload.get(key)
    if not isinstance(value, int):
        raise tokens.LinkInvalid()
    return value


def _linked_session(payload: dict[str, Any]) -> Session:
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("patient", "practitioner__user", "room", "session_type")
        .filter(pk=_payload_id(payload, "s"))
        .first()
    )
    if session is None:
        raise tokens.LinkInvalid()
    return session


class ConfirmationSuperseded(DomainError):
    """The link confirms a start time the appointment no longer has."""

    def __init__(self, *, sent_for: datetime, session: Session) -> None:
        super().__init__("This confirmation was for an earlier time of your appointment.")
        self.sent_for = sent_for
        self.session = session


def link_session_confirm(*, token: str) -> Session:
    """Confirm the time the email was sent for. A link from before a move confirms nothing
    (and stays unspent): the patient is told the new time, whose confirmation was sent."""
    with transaction.atomic():
        payload = tokens.link_use(action="confirm", token=token)
        session = _linked_session(payload)
        if session.status != Session.Status.BOOKED:
            raise DomainError(f"{status_for_patient(session)} There is nothing to confirm.")
        sent_for = confirm_link_sent_for(payload=payload, session=session)
        if sent_for is not None:
            raise ConfirmationSuperseded(sent_for=sent_for, session=session)
        message_id = payload.get("m") if isinstance(payload.get("m"), int) else None
        message = OutboxMessage.objects.filter(pk=message_id).first() if message_id else None
        confirmation = SessionConfirmation.objects.filter(session=session).first()
        if confirmation is None or confirmation.starts_at not in (session.starts_at, None):
            SessionConfirmation.objects.update_or_create(
                session=session,
                defaults={
                    "confirmed_at": timezone.now(),
                    "starts_at": session.starts_at,
                    "message": message,
                },
            )
    return session


def link_session_cancel(*, token: str) -> Session:
    """Cancel through the booking service and tell the desk (a notice on its Today page until
    someone acknowledges it, and a mark on the freed slot in the calendar)."""
    with transaction.atomic():
        payload = tokens.link_use(action="cancel", token=token)
        session = _linked_session(payload)
        blocked = cancel_blocked_reason(session)
        if blocked:
            raise DomainError(blocked)
        session = session_cancel(
            session=session, reason="Cancelled by the patient through the email link.", by=None
        )
        PatientCancellation.objects.create(
            session=session, cancelled_at=session.cancelled_at or timezone.now()
        )
    log.info("session %s cancelled by the patient through a signed link", session.pk)
    return session


def link_unsubscribe(*, token: str) -> Patient:
    with transaction.atomic():
        payload = tokens.link_use(action="unsubscribe", token=token)
        patient = Patient.objects.filter(pk=_payload_id(payload, "p")).first()
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
) -> Reaction:
    """The patient's own report lands in the clinical reactions list (source "patient"); a
    severe one is on the practitioners' dashboard the same day (clinical_dashboard)."""
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
    try:
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
                    # Neutral for the desk: the session type, never the protocol's name.
                    notes=f"{course.session_type.name}: maintenance (booked by the patient)"[:500],
                )
            booking = course_book_step(course=course, step_number=message.step, starts_at=starts_at)
    except BookingHeld:
        raise BookByPhone() from None
    return booking.session
