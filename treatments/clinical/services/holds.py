"""The "do not book" hold: clinical knowledge turned into the one bit the desk may act on.

Booking (a lower layer) must refuse a patient with an absolute contraindication without reading
clinical data, so the clinical side stores a hold on the patient (Patient.booking_hold) and the
booking service refuses a held patient under its lock. The rule:

- Every screening decides the hold afresh, in its own transaction: held when the patient's
  latest screening has a "yes" to an absolute rule that applies to all treatment (the same rule
  as the desk's former derived flag), lifted when it has none. A new screening is the clinic's
  current knowledge, so a resolved contraindication frees booking without a second step, and
  one declared again holds again even after an earlier lift.
- A doctor, nurse or prescriber may lift it (it overrides an absolute contraindication, so not
  a therapist), e.g. to see the patient for a review; treatment itself stays refused by the
  record's safety rules until a screening without the contraindication is taken.
- Both changes write one audit entry (object "booking_hold", note "set"/"lifted").
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient
from patients.services import patient_booking_hold_set

from ..errors import ClinicalError
from ..models import Screening, ScreeningRule
from ..selectors import screening_latest
from .authority import clinical_profile, clinician_required

OBJECT = "booking_hold"


def screening_holds_booking(*, screening: Screening) -> bool:
    """Whether the screening declares an absolute contraindication to all treatment."""
    return any(
        answer.answer
        and answer.rule.severity == ScreeningRule.Severity.ABSOLUTE
        and answer.rule.scope == ScreeningRule.Scope.ALL
        for answer in screening.answers.select_related("rule")
    )


def booking_hold_follow_screening(*, screening: Screening, by: User) -> None:
    """Set or lift the hold from the patient's latest screening; call in its transaction."""
    latest = screening_latest(patient_id=screening.patient_id)
    if latest is None or latest.pk != screening.pk:
        return  # a back-dated screening does not overrule a newer one
    held = screening_holds_booking(screening=screening)
    if patient_booking_hold_set(patient=screening.patient, held=held):
        audit_log(
            actor=by,
            patient=screening.patient,
            action=AuditEntry.Action.UPDATE,
            object_type=OBJECT,
            object_id=screening.patient_id,
            note="set by screening" if held else "lifted by screening",
        )


def hold_lifter(*, user: User) -> bool:
    """Whether this user may lift a hold (the page offers the button only to them)."""
    profile = clinical_profile(user=user)
    return profile is not None and profile.is_medical


def booking_hold_lift(*, patient: Patient, by: User) -> Patient:
    """A practitioner lets the desk book this patient again."""
    clinician_required(by=by, action="lift a do-not-book hold", medical=True)
    with transaction.atomic():
        if not patient_booking_hold_set(patient=patient, held=False):
            raise ClinicalError("This patient has no booking hold.")
        audit_log(
            actor=by,
            patient=patient,
            action=AuditEntry.Action.UPDATE,
            object_type=OBJECT,
            object_id=patient.pk,
            note="lifted",
        )
    return patient
