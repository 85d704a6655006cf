"""Booking, moving, cancelling and the day-of-session status changes.

Never double-booked: a practitioner or a room holds at most one active session at any instant,
its buffer included, and a patient at most one (the session itself: the clean-up buffer is the
room's and practitioner's time, not the patient's). The service locks the patient, practitioner
and room rows, always in this order (patient, then practitioners, then rooms, each in id order,
so two bookings can never wait on each other in a cycle), then re-checks under the lock and
tells the desk "that slot was just taken" naming the booking in the way. PostgreSQL's exclusion
constraints are the backstop; an IntegrityError from one becomes the message for the constraint
that fired (patient, practitioner or room).

A patient with a "do not book" hold (set by the clinical screening, lifted by a practitioner)
is refused under the same lock. The desk is told to ask a practitioner, never why: booking reads
only the hold, no clinical data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from mesoclinic.errors import BookingHeld, InvalidTransition, NotBookable, SlotTaken
from patients.models import Patient

from ..booking_hooks import SessionChange, session_changed, session_time_freed
from ..models import Room, Session, SessionType, StaffProfile
from ..selectors import (
    availability_for,
    clinic_zone,
    patient_session_conflicts,
    session_conflicts,
)

SLOT_TAKEN = (
    "That slot was just taken: {who} is already booked from {start} to {end}. Choose another time."
)
PATIENT_TAKEN = (
    "That slot was just taken: {patient} is already booked from {start} to {end} with "
    "{practitioner}. One patient cannot be in two sessions at once; choose another time."
)
HELD = (
    "{patient} cannot be booked at the moment: a practitioner needs to see them first. "
    "Ask a practitioner; they can lift the hold from the patient's clinical page."
)
ERASED = "This patient's details were erased at their request: they cannot be booked."
PATIENT_BUSY = (
    "{patient} is already booked from {start} to {end} with {practitioner}. One patient cannot "
    "be in two sessions at once; choose another time."
)
# A clash that was already there when the desk opened the form: say what is in the way.
DOES_NOT_FIT = (
    "{type} needs {held} min incl. clean-up; only {free} min free before {start} "
    "({who} is booked {start}–{end}). Choose another time."
)
BOOKED_THEN = "{who} is booked {start}–{end} (clean-up included). Choose another time."


def booking_rows_lock(patient_id: int, practitioner_ids: set[int], room_ids: set[int]) -> Patient:
    # Fixed order: the patient, then practitioners, then rooms, each by id. Every booking path
    # (and the same-day undo, treatments.services.status) takes its locks in this order, so
    # concurrent bookings queue instead of deadlocking. Only these rows (of=self), and FOR NO KEY
    # UPDATE: that serialises the bookings of one patient, practitioner or room without blocking
    # the KEY SHARE locks that foreign-key checks take on them meanwhile (an audit entry, a
    # consent change, or a session row updated twice in one transaction, whose deferred checks
    # run at COMMIT: with FOR UPDATE here, a completion would wait at COMMIT on an undo that
    # waits on the completion's session row).
    patient = (
        Patient.objects.select_for_update(no_key=True, of=("self",))
        .only("pk", "first_name", "last_name", "booking_hold", "erased_at")
        .get(pk=patient_id)
    )
    list(
        StaffProfile.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=practitioner_ids)
        .order_by("pk")
    )
    list(
        Room.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=room_ids)
        .order_by("pk")
    )
    return patient


def _raise_if_held(patient: Patient) -> None:
    # Read under the patient lock, which an erasure request takes too: a booking racing the
    # erasure either comes first (and the erasure asks to cancel it) or finds the patient gone.
    if patient.erased_at is not None:
        raise NotBookable(ERASED, field="patient")
    if patient.booking_hold:
        raise BookingHeld(HELD.format(patient=patient.full_name), field="patient")


def booking_parties_check(
    *, session_type: SessionType, practitioner: StaffProfile, room: Room | None
) -> None:
    """Refuse a session type, practitioner or room that cannot be booked together: one home for
    the rule, used by every booking and by a course before it books anything."""
    if not session_type.active:
        raise NotBookable("This session type is no longer offered.", field="session_type")
    if not practitioner.bookable or not practitioner.user.is_active:
        raise NotBookable("This practitioner cannot be booked.", field="practitioner")
    if room is not None and not room.active:
        raise NotBookable("This room is not in use.", field="room")
    if session_type.medical_only and not practitioner.is_medical:
        # Deeper work needs a medical practitioner (DOMAIN.md, "The patient journey", 3).
        raise NotBookable(
            f"{session_type} needs a medical practitioner (doctor, nurse or prescriber); "
            f"{practitioner} is an aesthetic therapist and may only do superficial sessions.",
            field="practitioner",
        )


def _check_rules(
    *,
    session_type: SessionType,
    practitioner: StaffProfile,
    room: Room,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    if starts_at <= timezone.now():
        raise NotBookable("That time is in the past. Choose a time later than now.", field="time")
    booking_parties_check(session_type=session_type, practitioner=practitioner, room=room)
    zone = clinic_zone()
    day = starts_at.astimezone(zone).date()
    intervals = availability_for(staff_ids=[practitioner.pk], first_day=day, days=1, zone=zone)
    if not any(
        start <= starts_at and ends_at <= end for start, end in intervals[(practitioner.pk, day)]
    ):
        # Starts inside working time but runs past its end: say when they stop.
        stop = next((e for s, e in intervals[(practitioner.pk, day)] if s <= starts_at < e), None)
        if stop is not None:
            raise NotBookable(
                f"{practitioner} is not working from {stop.astimezone(zone):%H:%M} on "
                f"{day:%a %d %b %Y}; {session_type} needs {session_type.duration_minutes} min "
                f"and would end at {ends_at.astimezone(zone):%H:%M}. Choose an earlier time.",
                field="time",
            )
        raise NotBookable(
            f"{practitioner} is not working, or the clinic is closed, for the whole of "
            f"{starts_at.astimezone(zone):%H:%M}–{ends_at.astimezone(zone):%H:%M} on "
            f"{day:%a %d %b %Y}. Choose a time inside their working hours.",
            field="time",
        )


def _raise_if_taken(
    *,
    patient: Patient,
    starts_at: datetime,
    ends_at: datetime,
    blocked_until: datetime,
    practitioner: StaffProfile,
    room: Room,
    exclude_id: int | None = None,
    session_type: SessionType | None = None,
    shown_at: datetime | None = None,
) -> None:
    """Refuse a slot held by another active session. Given when the desk's form was shown
    (`shown_at`), "just taken" only if that session was booked since, else what is in the way;
    without it (no form: courses, patient links, races between services), "just taken"."""
    zone = clinic_zone()
    own = (
        patient_session_conflicts(
            patient_id=patient.pk, starts_at=starts_at, ends_at=ends_at, exclude_id=exclude_id
        )
        .select_related("practitioner__user")
        .first()
    )
    if own is not None:
        wording = PATIENT_TAKEN if shown_at is None or own.created_at > shown_at else PATIENT_BUSY
        raise SlotTaken(
            wording.format(
                patient=patient.full_name,
                start=f"{own.starts_at.astimezone(zone):%H:%M}",
                end=f"{own.ends_at.astimezone(zone):%H:%M}",
                practitioner=own.practitioner,
            ),
            field="time",
        )
    clash = (
        session_conflicts(
            starts_at=starts_at,
            blocked_until=blocked_until,
            practitioner_id=practitioner.pk,
            room_id=room.pk,
            exclude_id=exclude_id,
        )
        .select_related("practitioner__user", "room")
        .first()
    )
    if clash is None:
        return
    who = clash.practitioner if clash.practitioner_id == practitioner.pk else clash.room
    start = f"{clash.starts_at.astimezone(zone):%H:%M}"
    end = f"{clash.blocked_until.astimezone(zone):%H:%M}"
    if shown_at is None or clash.created_at > shown_at:
        message = SLOT_TAKEN.format(who=who, start=start, end=end)
    elif session_type is not None and clash.starts_at > starts_at:
        message = DOES_NOT_FIT.format(
            type=session_type,
            held=(blocked_until - starts_at) // timedelta(minutes=1),
            free=(clash.starts_at - starts_at) // timedelta(minutes=1),
            who=who,
            start=start,
            end=end,
        )
    else:
        message = BOOKED_THEN.format(who=who, start=start, end=end)
    raise SlotTaken(message, field="time")


# PostgreSQL's SQLSTATE for an exclusion-constraint violation (the no-overlap backstop).
EXCLUSION_VIOLATION = "23P01"


# Which exclusion constraint fired -> what to tell the desk (migrations 0002 and 0006).
OVERLAP_MESSAGES = {
    "session_no_overlap_patient": (
        "That slot was just taken: the patient already has another session at that time. "
        "Choose another time."
    ),
    "session_no_overlap_practitioner": (
        "That slot was just taken: the practitioner was just booked at that time by another "
        "booking. Choose another time."
    ),
    "session_no_overlap_room": (
        "That slot was just taken: the room was just booked at that time by another booking. "
        "Choose another time or another room."
    ),
}


def _slot_taken_or_reraise(exc: IntegrityError) -> SlotTaken:
    """Only an overlap is "slot taken"; any other integrity error is a bug and stays one."""
    cause = exc.__cause__
    if getattr(cause, "pgcode", None) != EXCLUSION_VIOLATION:
        raise exc
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    if constraint not in OVERLAP_MESSAGES:
        raise exc
    return SlotTaken(OVERLAP_MESSAGES[constraint], field="time")


def _held_slot(session_type: SessionType, starts_at: datetime) -> tuple[datetime, datetime]:
    """(ends_at, blocked_until): the session, then its clean-up buffer."""
    ends_at = starts_at + session_type.duration
    return ends_at, ends_at + session_type.buffer


def session_book(
    *,
    patient: Patient,
    session_type: SessionType,
    practitioner: StaffProfile,
    room: Room,
    starts_at: datetime,
    booked_by: User | None = None,
    notes: str = "",
    shown_at: datetime | None = None,
) -> Session:
    """`shown_at`: when the desk's form was shown, so that a clash booked since then reads
    "just taken" and an older one says what is in the way."""
    ends_at, blocked_until = _held_slot(session_type, starts_at)
    _check_rules(
        session_type=session_type,
        practitioner=practitioner,
        room=room,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    try:
        with transaction.atomic():
            locked = booking_rows_lock(patient.pk, {practitioner.pk}, {room.pk})
            _raise_if_held(locked)
            _raise_if_taken(
                patient=locked,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                practitioner=practitioner,
                room=room,
                session_type=session_type,
                shown_at=shown_at,
            )
            session = Session.objects.create(
                patient=patient,
                session_type=session_type,
                practitioner=practitioner,
                room=room,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                booked_by=booked_by if getattr(booked_by, "pk", None) else None,
                notes=notes,
            )
            session_changed(session=session, change="booked")
    except IntegrityError as exc:
        raise _slot_taken_or_reraise(exc) from exc
    return session


def session_reschedule(
    *,
    session: Session,
    starts_at: datetime,
    practitioner: StaffProfile | None = None,
    room: Room | None = None,
    by: User | None = None,
    shown_at: datetime | None = None,
) -> Session:
    practitioner = practitioner or session.practitioner
    room = room or session.room
    if session.status != Session.Status.BOOKED:
        raise InvalidTransition(
            "Only a booked session can be moved; this one is "
            f"{session.get_status_display().lower()}."
        )
    ends_at, blocked_until = _held_slot(session.session_type, starts_at)
    _check_rules(
        session_type=session.session_type,
        practitioner=practitioner,
        room=room,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    try:
        with transaction.atomic():
            locked = booking_rows_lock(
                session.patient_id,
                {practitioner.pk, session.practitioner_id},
                {room.pk, session.room_id},
            )
            current = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
            if current.status != Session.Status.BOOKED:
                raise InvalidTransition(
                    "This session changed meanwhile and can no longer be moved."
                )
            _raise_if_held(locked)
            _raise_if_taken(
                patient=locked,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                practitioner=practitioner,
                room=room,
                exclude_id=session.pk,
                session_type=session.session_type,
                shown_at=shown_at,
            )
            before = Session(
                practitioner_id=current.practitioner_id,
                room_id=current.room_id,
                starts_at=current.starts_at,
                blocked_until=current.blocked_until,
            )
            current.starts_at, current.ends_at, current.blocked_until = (
                starts_at,
                ends_at,
                blocked_until,
            )
            current.practitioner, current.room = practitioner, room
            current.save(
                update_fields=[
                    "starts_at",
                    "ends_at",
                    "blocked_until",
                    "practitioner",
                    "room",
                    "updated_at",
                ]
            )
            session_changed(session=current, change="rescheduled")
            # The old time is free again (whatever of it the new time does not cover: the
            # waiting list asks the availability engine, which sees the session at its new time).
            session_time_freed(before)
    except IntegrityError as exc:
        raise _slot_taken_or_reraise(exc) from exc
    return current


def _transition(
    session: Session,
    *,
    allowed_from: tuple[str, ...],
    to: SessionChange,
    fields: dict[str, Any],
    verb: str,
) -> Session:
    with transaction.atomic():
        current = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
        if current.status not in allowed_from:
            raise InvalidTransition(
                f"Cannot {verb}: the session is {current.get_status_display().lower()}."
            )
        current.status = Session.Status(to)
        for name, value in fields.items():
            setattr(current, name, value)
        current.save(update_fields=["status", "updated_at", *fields])
        # Courses and patient emails react in this same transaction (booking_hooks), so a
        # cancel that commits has cancelled its reminders and a rolled-back change sends nothing.
        session_changed(session=current, change=to)
        if to in ("cancelled", "no_show"):
            # Outside the exclusion constraints now: its slot can be offered to the waiting list.
            session_time_freed(current)
    return current


def session_cancel(*, session: Session, reason: str, by: User | None = None) -> Session:
    reason = (reason or "").strip()
    if not reason:
        raise NotBookable("Say why the session is cancelled.", field="reason")
    return _transition(
        session,
        allowed_from=(Session.Status.BOOKED,),
        to="cancelled",
        fields={"cancelled_at": timezone.now(), "cancel_reason": reason},
        verb="cancel",
    )


def session_mark_arrived(*, session: Session, by: User | None = None) -> Session:
    now = timezone.now()
    zone = clinic_zone()
    if session.starts_at.astimezone(zone).date() != now.astimezone(zone).date():
        raise InvalidTransition("A patient can only be checked in on the day of the session.")
    return _transition(
        session,
        allowed_from=(Session.Status.BOOKED,),
        to="arrived",
        fields={"arrived_at": now},
        verb="check the patient in",
    )


def session_complete(
    *, session: Session, by: User | None = None, ended_at: datetime | None = None
) -> Session:
    now = timezone.now()
    ended_at = ended_at or now
    if ended_at > now + timedelta(minutes=1):
        raise NotBookable("The session cannot end in the future.", field="ended_at")
    if ended_at < session.starts_at:
        raise NotBookable("The session cannot end before it started.", field="ended_at")
    return _transition(
        session,
        allowed_from=(Session.Status.BOOKED, Session.Status.ARRIVED),
        to="completed",
        fields={"completed_at": ended_at},
        verb="complete the session",
    )


def session_mark_no_show(*, session: Session, by: User | None = None) -> Session:
    if session.starts_at > timezone.now():
        raise InvalidTransition(
            "A session can only be marked no-show once its start time has passed."
        )
    return _transition(
        session,
        allowed_from=(Session.Status.BOOKED,),
        to="no_show",
        fields={},
        verb="mark a no-show",
    )
