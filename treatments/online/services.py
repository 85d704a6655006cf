"""Writes for online booking.

Nothing is booked when the form is sent: a BookingRequest is stored and a signed, single-use
link is emailed to the address given (through the outbox). The page answers the same whether or
not the address belongs to a patient, so it reveals nothing; the click proves the address. The
click books through `session_book` (its locks, re-check and exclusion constraints are the only
no-double-booking guarantee: this module adds none of its own), or in "request" mode leaves the
request for the desk. The link is marked used in the same transaction as what it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.errors import BookingHeld, DomainError, NotBookable, PossibleDuplicate, SlotTaken
from patients.models import Patient
from patients.services import patient_create
from treatments.clinical.selectors import questionnaire_open
from treatments.clinical.services.questionnaire import questionnaire_link_make
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.outbox import message_answer_request, message_schedule, messages_close
from treatments.messaging.tokens import LinkError, link_make, link_read, link_use
from treatments.models import OnlineBooking, Session, SessionType, StaffProfile
from treatments.selectors import clinic_get
from treatments.services.booking import session_book

from .models import BookingRequest
from .selectors import (
    FreeSlot,
    free_room,
    free_slots,
    nearest_free_slots,
    online_request_get,
    patient_for_online,
)

LINK_MINUTES = 30
# A "could not accept your request" email is news for two days, then no longer sent.
DECLINED_USEFUL_FOR = timedelta(days=2)
ACTION = "online_verify"


class Outcome:
    BOOKED = "booked"
    REQUESTED = "requested"
    TAKEN = "taken"
    CALL = "call"  # neutral: a hold, an unmatched patient, online booking off
    INVALID = "invalid"


@dataclass
class Confirmation:
    outcome: str
    request: BookingRequest | None = None
    session: Session | None = None
    alternatives: list[FreeSlot] = field(default_factory=list)
    # A signed link to the patient's open health questionnaire (booked only): shown on the
    # outcome page to the person who just proved the address, whatever their consents.
    questionnaire_token: str = ""


@dataclass(frozen=True)
class Applicant:
    email: str
    date_of_birth: date
    is_new: bool
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    # A new patient's opt-ins (ignored for an existing patient: their consents are kept with
    # the desk and changed there or through an email's unsubscribe link).
    email_reminders_consent: bool = False
    marketing_consent: bool = False


def online_link_make(*, request: BookingRequest) -> str:
    return link_make(action=ACTION, payload={"r": request.pk}, expires_at=request.expires_at)


def online_request_create(
    *,
    session_type: SessionType,
    practitioner: StaffProfile | None,
    starts_at: datetime,
    applicant: Applicant,
    now: datetime | None = None,
) -> BookingRequest:
    """Store the request and queue the verification email; same result for any address."""
    now = now or timezone.now()
    clinic = clinic_get()
    if clinic.online_booking == OnlineBooking.OFF:
        raise DomainError("Online booking is not available. Please call the clinic.")
    if not (session_type.active and session_type.bookable_online):
        raise DomainError("This session type cannot be booked online.", field="session_type")
    if applicant.is_new and not session_type.new_patients_online:
        raise DomainError(
            "New patients can book only a consultation online. Choose a consultation.",
            field="session_type",
        )
    zone = clinic.zone
    day = starts_at.astimezone(zone).date()
    free = free_slots(
        session_type=session_type,
        day=day,
        zone=zone,
        practitioner_id=practitioner.pk if practitioner else None,
        now=now,
    )
    if not any(slot.starts_at == starts_at for slot in free):
        raise DomainError("That time is no longer free. Choose another time.", field="slot")
    patient = None
    if not applicant.is_new:
        patient = patient_for_online(email=applicant.email, date_of_birth=applicant.date_of_birth)
    with transaction.atomic():
        request = BookingRequest.objects.create(
            session_type=session_type,
            practitioner=practitioner,
            starts_at=starts_at,
            email=applicant.email.strip(),
            date_of_birth=applicant.date_of_birth,
            is_new=applicant.is_new,
            first_name=applicant.first_name,
            last_name=applicant.last_name,
            phone=applicant.phone,
            email_reminders_consent=applicant.is_new and applicant.email_reminders_consent,
            marketing_consent=applicant.is_new and applicant.marketing_consent,
            patient=patient,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
        # Sent whether or not the address is a patient's: the page and the mail server see
        # the same thing either way; an unmatched click gets the neutral "please call" page.
        message_schedule(
            kind=Kind.ONLINE_VERIFY,
            patient=patient,
            due_at=now,
            expires_at=request.expires_at,
            booking_request_id=request.pk,
            to_email=request.email,
            now=now,
        )
    return request


def _register(request: BookingRequest) -> Patient:
    """A new patient as the desk registers one; a likely duplicate is flagged, never merged.

    The opt-ins ticked on the page become consents now, with their source and time: the click
    proves the address they were given for."""

    def register(*, confirm_duplicate: bool) -> Patient:
        return patient_create(
            first_name=request.first_name,
            last_name=request.last_name,
            date_of_birth=request.date_of_birth,
            email=request.email,
            phone=request.phone,
            email_reminders_consent=request.email_reminders_consent,
            marketing_consent=request.marketing_consent,
            created_by=None,
            source="online booking",
            confirm_duplicate=confirm_duplicate,
        )

    try:
        return register(confirm_duplicate=False)
    except PossibleDuplicate as dup:
        request.duplicate_note = (
            "Possible duplicate of patient(s) "
            + ", ".join(str(p.pk) for p in dup.matches)
            + ": check and merge by hand."
        )[:300]
        return register(confirm_duplicate=True)


def _book(request: BookingRequest, patient: Patient, by: User | None) -> Session:
    session_type = request.session_type
    held = session_type.duration + session_type.buffer
    zone = clinic_get().zone
    candidates = (
        [request.practitioner_id]
        if request.practitioner_id is not None
        else [
            pk
            for slot in free_slots(
                session_type=session_type,
                day=request.starts_at.astimezone(zone).date(),
                zone=zone,
            )
            if slot.starts_at == request.starts_at
            for pk in slot.practitioner_ids
        ]
    )
    room = free_room(starts_at=request.starts_at, blocked_until=request.starts_at + held)
    if not candidates or room is None:
        raise SlotTaken("That slot was just taken.", field="time")
    practitioner = StaffProfile.objects.select_related("user").get(pk=candidates[0])
    return session_book(
        patient=patient,
        session_type=session_type,
        practitioner=practitioner,
        room=room,
        starts_at=request.starts_at,
        booked_by=by,
        notes="Booked online." + (f" {request.duplicate_note}" if request.duplicate_note else ""),
    )


def _alternatives(request: BookingRequest) -> list[FreeSlot]:
    return nearest_free_slots(
        session_type=request.session_type,
        around=request.starts_at,
        zone=clinic_get().zone,
        practitioner_id=request.practitioner_id,
    )


def online_link_valid(*, token: str) -> bool:
    return online_request_for_link(token=token) is not None


def online_request_for_link(*, token: str) -> BookingRequest | None:
    """The request a valid, unused link would confirm (None otherwise), to show what the click
    confirms. Reads only: the link is used by `online_request_confirm`."""
    try:
        payload = link_read(action=ACTION, token=token)
    except LinkError:
        return None
    pk = payload.get("r")
    request = online_request_get(pk=pk) if isinstance(pk, int) else None
    if request is None or request.status != BookingRequest.Status.AWAITING_EMAIL:
        return None
    return request


def online_request_confirm(*, token: str, now: datetime | None = None) -> Confirmation:
    """The patient clicked the emailed link. A bad, expired or used link changes nothing."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            payload = link_use(action=ACTION, token=token, now=now)
            request_pk = payload.get("r")
            if not isinstance(request_pk, int):
                raise LinkError()
            request = (
                BookingRequest.objects.select_for_update(of=("self",))
                .filter(pk=request_pk, status=BookingRequest.Status.AWAITING_EMAIL)
                .first()
            )
            full = online_request_get(pk=request.pk) if request is not None else None
            if full is None:
                raise LinkError()
            return _act(full, now=now)
    except LinkError:
        return Confirmation(outcome=Outcome.INVALID)
    except DomainError:
        # Details the desk's registration refuses: nothing was kept (the link stays unused);
        # the neutral answer, never an error page.
        return Confirmation(outcome=Outcome.CALL)


def _finish(request: BookingRequest, status: str, now: datetime, **fields: object) -> None:
    request.status = status
    request.decided_at = now
    for name, value in fields.items():
        setattr(request, name, value)
    request.save()


def _act(request: BookingRequest, *, now: datetime) -> Confirmation:
    mode = clinic_get().online_booking
    patient: Patient | None
    if request.is_new:
        patient = _register(request)
        request.patient = patient
        # The verification email now shows on the new patient's messages page.
        OutboxMessage.objects.filter(booking_request=request, patient__isnull=True).update(
            patient=patient
        )
    else:
        patient = request.patient
    if mode == OnlineBooking.OFF or patient is None or patient.booking_hold:
        _finish(request, BookingRequest.Status.REFUSED, now)
        return Confirmation(outcome=Outcome.CALL, request=request)
    if mode == OnlineBooking.REQUEST:
        _finish(request, BookingRequest.Status.REQUESTED, now)
        message_schedule(
            kind=Kind.ONLINE_RECEIVED,
            patient=patient,
            due_at=now,
            expires_at=request.starts_at,
            booking_request_id=request.pk,
            to_email=request.email,
            now=now,
        )
        return Confirmation(outcome=Outcome.REQUESTED, request=request)
    try:
        session = _book(request, patient, None)
    except BookingHeld:
        _finish(request, BookingRequest.Status.REFUSED, now)
        return Confirmation(outcome=Outcome.CALL, request=request)
    except (SlotTaken, NotBookable):
        _finish(request, BookingRequest.Status.TAKEN, now)
        return Confirmation(
            outcome=Outcome.TAKEN, request=request, alternatives=_alternatives(request)
        )
    _finish(request, BookingRequest.Status.BOOKED, now, session=session)
    message_answer_request(
        session_id=session.pk, booking_request_id=request.pk, to_email=request.email
    )
    questionnaire = questionnaire_open(patient_id=patient.pk)
    return Confirmation(
        outcome=Outcome.BOOKED,
        request=request,
        session=session,
        questionnaire_token=(
            questionnaire_link_make(questionnaire=questionnaire, now=now) if questionnaire else ""
        ),
    )


def online_request_decide(
    *, request: BookingRequest, approve: bool, by: User, now: datetime | None = None
) -> BookingRequest:
    """The desk approves (books through the booking service) or declines; the patient is told."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = BookingRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
        if locked.status != BookingRequest.Status.REQUESTED:
            raise DomainError("This request has already been dealt with.")
        if locked.starts_at <= now:
            raise DomainError(
                "The time asked for has passed; the request is closed and the patient told."
            )
        full = online_request_get(pk=locked.pk)
        if full is None or full.patient is None:
            raise DomainError("This request has no patient to book for; call the person.")
        locked = full
        # "We have your request" is no longer news once the desk has decided.
        messages_close(
            OutboxMessage.objects.filter(booking_request=locked, kind=Kind.ONLINE_RECEIVED),
            status=Status.CANCELLED,
            code=Reason.NOT_APPLICABLE,
            reason="The desk decided on the request before it was sent.",
        )
        if approve:
            session = _book(locked, full.patient, by)
            _finish(locked, BookingRequest.Status.APPROVED, now, session=session)
            # The approval carries the booking's details, links and calendar file, and goes to
            # the verified address whatever the consents (it answers the request): the
            # session's own first confirmation would say the same thing a second time.
            messages_close(
                OutboxMessage.objects.filter(session=session, kind=Kind.CONFIRMATION, step=0),
                status=Status.CANCELLED,
                code=Reason.SUPERSEDED,
                reason="The approval email carries the booking's details.",
                include_skipped=True,
            )
            message_schedule(
                kind=Kind.ONLINE_APPROVED,
                patient=locked.patient,
                due_at=now,
                expires_at=session.starts_at,
                session_id=session.pk,
                booking_request_id=locked.pk,
                to_email=locked.email,
                now=now,
            )
        else:
            _finish(locked, BookingRequest.Status.DECLINED, now)
            _tell_declined(locked, now)
    return locked


def _tell_declined(request: BookingRequest, now: datetime) -> None:
    """ONLINE_DECLINED: its wording follows the request's status (declined, or not decided in
    time)."""
    message_schedule(
        kind=Kind.ONLINE_DECLINED,
        patient=request.patient,
        due_at=now,
        expires_at=now + DECLINED_USEFUL_FOR,
        booking_request_id=request.pk,
        to_email=request.email,
        now=now,
    )


def online_requests_lapse(*, now: datetime | None = None) -> int:
    """Close the requests the desk never decided whose start has passed, and tell each patient
    (ONLINE_DECLINED, "not decided in time"). Run by the periodic tick (Celery beat and `make
    run`'s loop); idempotent: a closed request is no longer REQUESTED. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            BookingRequest.objects.select_for_update(of=("self",))
            .filter(status=BookingRequest.Status.REQUESTED, starts_at__lte=now)
            .order_by("pk")
        )
        for request in lapsed:
            _finish(request, BookingRequest.Status.EXPIRED, now)
            messages_close(
                OutboxMessage.objects.filter(booking_request=request, kind=Kind.ONLINE_RECEIVED),
                status=Status.CANCELLED,
                code=Reason.NOT_APPLICABLE,
                reason="The request was not decided in time.",
            )
            _tell_declined(request, now)
    return len(lapsed)
