"""Day-of-session changes the desk may take back, and completing a session with its record.

The forward changes (check-in, completed, no-show) are in treatments.services.booking; the rules
for when each is possible, and the words of their refusals, are in treatments.status_rules.
Undoing is audited: the trail says who put a session back to booked, and when.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from mesoclinic.audit.services import Action, audit_log
from mesoclinic.errors import DomainError, InvalidTransition, SlotTaken

from ..models import Session
from ..selectors import clinic_zone, patient_session_conflicts, session_conflicts
from ..status_rules import undo_refusal
from . import booking


class RecordNotSigned(DomainError):
    """Completing a session without a signed clinical record needs the desk's confirmation."""


@dataclass(frozen=True)
class Completed:
    session: Session
    flagged: bool  # completed without a signed record: shown to the practitioner


def session_record_signed(*, session: Session) -> bool:
    # Through the reverse relation's name: booking sits below the clinical app and cannot
    # import its models.
    return Session.objects.filter(pk=session.pk, clinical_record__signed_at__isnull=False).exists()


def session_complete_at_desk(
    *, session: Session, by: User | None, unsigned_confirmed: bool = False
) -> Completed:
    """Complete the session; without a signed record, only once the desk has confirmed, and then
    flag it for the practitioner (their today list shows it until the record is signed)."""
    signed = session_record_signed(session=session)
    if not signed and not unsigned_confirmed:
        raise RecordNotSigned(
            f"{session.patient}'s session has no signed clinical record yet. Complete it anyway? "
            f"{session.practitioner} will see it flagged until they sign the record."
        )
    with transaction.atomic():
        done = booking.session_complete(session=session, by=by)
        if not signed:
            done.record_flagged_at = timezone.now()
            Session.objects.filter(pk=done.pk).update(record_flagged_at=done.record_flagged_at)
            audit_log(
                actor=by,
                patient=done.patient,
                action=Action.UPDATE,
                obj=done,
                note="completed, record not signed",
            )
    return Completed(session=done, flagged=not signed)


def _locked(session: Session) -> Session:
    # The rows a booking locks, in the booking's order (patient, practitioner, room), then the
    # session row itself, and only these rows (of=self): an undo racing a booking of the same
    # patient or practitioner queues behind it instead of deadlocking with it.
    booking.booking_rows_lock(session.patient_id, {session.practitioner_id}, {session.room_id})
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("patient", "practitioner__user", "room")
        .get(pk=session.pk)
    )


def session_check_in_undo(*, session: Session, by: User | None) -> Session:
    """Put a checked-in session back to booked, on the session's day only."""
    with transaction.atomic():
        current = _locked(session)
        if current.status != Session.Status.ARRIVED:
            raise InvalidTransition(
                "Only a checked-in session can have its check-in undone; this one is "
                f"{current.get_status_display().lower()}."
            )
        refusal = undo_refusal(current, now=timezone.now(), zone=clinic_zone(), what="check-in")
        if refusal:
            raise InvalidTransition(refusal)
        current.status, current.arrived_at = Session.Status.BOOKED, None
        current.save(update_fields=["status", "arrived_at", "updated_at"])
        audit_log(
            actor=by,
            patient=current.patient,
            action=Action.UPDATE,
            obj=current,
            note="check-in undone",
        )
    return current


def session_no_show_undo(*, session: Session, by: User | None) -> Session:
    """Put a no-show back to booked, on the session's day only, if its slot is still free.

    A no-show frees the slot, so someone (or the patient, elsewhere) may have been booked into
    it since: that is refused with who holds it, checked under the same locks as a booking.
    """
    try:
        with transaction.atomic():
            current = _locked(session)
            if current.status != Session.Status.NO_SHOW:
                raise InvalidTransition(
                    "Only a no-show can be undone; this session is "
                    f"{current.get_status_display().lower()}."
                )
            zone = clinic_zone()
            refusal = undo_refusal(current, now=timezone.now(), zone=zone, what="no-show")
            if refusal:
                raise InvalidTransition(refusal)
            own = (
                patient_session_conflicts(
                    patient_id=current.patient_id,
                    starts_at=current.starts_at,
                    ends_at=current.ends_at,
                    exclude_id=current.pk,
                )
                .select_related("practitioner__user")
                .first()
            )
            if own is not None:
                raise SlotTaken(
                    f"The no-show cannot be undone: {current.patient} is booked again from "
                    f"{own.starts_at.astimezone(zone):%H:%M} to "
                    f"{own.ends_at.astimezone(zone):%H:%M} with {own.practitioner}. "
                    "Book the patient another time."
                )
            clash = (
                session_conflicts(
                    starts_at=current.starts_at,
                    blocked_until=current.blocked_until,
                    practitioner_id=current.practitioner_id,
                    room_id=current.room_id,
                    exclude_id=current.pk,
                )
                .select_related("practitioner__user", "room")
                .first()
            )
            if clash is not None:
                who = (
                    clash.practitioner
                    if clash.practitioner_id == current.practitioner_id
                    else clash.room
                )
                raise SlotTaken(
                    f"The no-show cannot be undone: its time is booked again ({who}, "
                    f"{clash.starts_at.astimezone(zone):%H:%M}–"
                    f"{clash.blocked_until.astimezone(zone):%H:%M}). Book the patient another time."
                )
            current.status = Session.Status.BOOKED
            current.save(update_fields=["status", "updated_at"])
            audit_log(
                actor=by,
                patient=current.patient,
                action=Action.UPDATE,
                obj=current,
                note="no-show undone",
            )
    except IntegrityError as exc:
        # The exclusion constraint (PostgreSQL) caught a booking that committed meanwhile.
        if getattr(exc.__cause__, "pgcode", None) != booking.EXCLUSION_VIOLATION:
            raise
        raise SlotTaken(
            "The no-show cannot be undone: its time was just booked again. "
            "Book the patient another time."
        ) from exc
    return current
