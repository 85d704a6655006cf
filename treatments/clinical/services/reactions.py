"""Adverse reactions after a session, from a practitioner or from the patient's own report."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient
from treatments.models import Session
from treatments.selectors import clinic_zone

from ..errors import ClinicalError
from ..models import Reaction, Severity
from .alerts import reaction_alerts_schedule
from .authority import clinician_required

# A reaction follows an injection: only a session the patient came to can have caused one.
TOOK_PLACE = (Session.Status.ARRIVED, Session.Status.COMPLETED)


def _check(
    *, session: Session, patient: Patient, type: str, severity: str, onset: datetime | None
) -> None:
    if session.patient_id != patient.pk:
        raise ClinicalError("That session belongs to another patient.", field="session")
    if session.status == Session.Status.BOOKED:
        raise ClinicalError(
            "This session has not taken place yet: a reaction can be recorded once the patient "
            "has arrived for it."
        )
    if session.status not in TOOK_PLACE:
        raise ClinicalError(
            f"This session is marked {session.get_status_display().lower()}: it did not take "
            "place, so no reaction can be recorded against it."
        )
    if type not in Reaction.Type.values:
        raise ClinicalError("Choose the type of reaction.", field="type")
    if severity not in Severity.values:
        raise ClinicalError("Choose how severe it is.", field="severity")
    if not isinstance(onset, datetime):
        raise ClinicalError("Give when it started.", field="onset")
    if onset > timezone.now() + timedelta(minutes=5):
        raise ClinicalError("The onset cannot be in the future.", field="onset")
    if onset < session.starts_at:
        raise ClinicalError("The onset cannot be before the session started.", field="onset")


def reaction_report(
    *,
    session: Session,
    patient: Patient,
    type: str,
    severity: str,
    onset: datetime,
    description: str,
    source: str,
    reported_by: User | None = None,
    action_taken: str = "",
) -> Reaction:
    """Record a reaction. `source` is "practitioner" or "patient" (the self-report link).

    A severe one shows on the practitioners' dashboard at once (clinical_dashboard reads it).
    """
    if source not in Reaction.Source.values:
        raise ClinicalError("Unknown source of the report.")
    if source == Reaction.Source.PRACTITIONER:
        # The patient's own report (the signed link) has no staff author to check.
        clinician_required(by=reported_by, action="record a reaction")
    _check(session=session, patient=patient, type=type, severity=severity, onset=onset)
    description, action_taken = description.strip(), action_taken.strip()
    if len(description) > 1000 or len(action_taken) > 1000:
        raise ClinicalError("Keep it under 1,000 characters.", field="description")
    if type == Reaction.Type.OTHER and not description:
        raise ClinicalError("Describe the reaction.", field="description")
    with transaction.atomic():
        reaction = Reaction.objects.create(
            session=session,
            patient=patient,
            type=type,
            severity=severity,
            onset=onset,
            description=description,
            action_taken=action_taken,
            source=source,
            reported_by=reported_by if getattr(reported_by, "pk", None) else None,
        )
        audit_log(actor=reported_by, patient=patient, action=AuditEntry.Action.CREATE, obj=reaction)
        reaction_alerts_schedule(reaction=reaction)
    return reaction


def reaction_update(
    *,
    reaction: Reaction,
    by: User,
    severity: str,
    action_taken: str,
    resolved_on: date | None,
    resolution: str,
) -> Reaction:
    """Follow a reaction up: its severity as it evolves, what was done, when it resolved."""
    clinician_required(by=by, action="follow a reaction up")
    if severity not in Severity.values:
        raise ClinicalError("Choose how severe it is.", field="severity")
    # Days in the clinic's zone, not the active one: services also run outside a request.
    zone = clinic_zone()
    onset_day = timezone.localtime(reaction.onset, zone).date()
    if resolved_on is not None and resolved_on < onset_day:
        raise ClinicalError("It cannot resolve before it started.", field="resolved_on")
    if resolved_on is not None and resolved_on > timezone.localdate(timezone=zone):
        raise ClinicalError("The resolution date cannot be in the future.", field="resolved_on")
    with transaction.atomic():
        reaction = Reaction.objects.select_for_update(of=("self",)).get(pk=reaction.pk)
        reaction.severity = severity
        reaction.action_taken = action_taken.strip()
        reaction.resolved_on = resolved_on
        reaction.resolution = resolution.strip()
        reaction.save()
        audit_log(actor=by, patient=reaction.patient, action=AuditEntry.Action.UPDATE, obj=reaction)
        # Raised to severe on follow-up: it reaches a person as a new severe report would.
        reaction_alerts_schedule(reaction=reaction)
    return reaction


def reaction_acknowledge(*, reaction: Reaction, by: User) -> Reaction:
    """A practitioner has seen the severe reaction: it leaves the dashboard's alert cards."""
    with transaction.atomic():
        reaction = (
            Reaction.objects.select_for_update(of=("self",))
            .select_related("patient")
            .get(pk=reaction.pk)
        )
        if reaction.severity != Severity.SEVERE:
            raise ClinicalError("Only a severe reaction waits for acknowledgement.")
        if reaction.acknowledged_at is not None:
            raise ClinicalError("This reaction has already been acknowledged.")
        reaction.acknowledged_at = timezone.now()
        reaction.acknowledged_by = by
        reaction.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
        audit_log(
            actor=by, patient=reaction.patient, action=AuditEntry.Action.ACKNOWLEDGE, obj=reaction
        )
    return reaction
