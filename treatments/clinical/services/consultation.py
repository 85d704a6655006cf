"""Consultations: editable by their author until signed, then only addenda."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient
from treatments.products.models import Product

from ..errors import ClinicalError, RecordLocked
from ..models import Consultation, Zone
from .authority import clinician_required


@dataclass
class ConsultationData:
    skin_type: str
    fitzpatrick: int
    hydration: str
    elasticity: str
    sensitivity: str
    concerns: list[str] = field(default_factory=list)
    concerns_other: str = ""
    goals: str = ""
    skin_notes: str = ""
    risks_explained: bool = False
    risks_notes: str = ""
    recommendation: str = ""
    plan_zones: list[str] = field(default_factory=list)
    plan_products: list[Product] = field(default_factory=list)
    plan_protocol: str = ""
    plan_sessions: int | None = None


def _check(data: ConsultationData) -> None:
    if not data.concerns:
        raise ClinicalError("Choose at least one concern.", field="concerns")
    if any(c not in Consultation.Concern.values for c in data.concerns):
        raise ClinicalError("Choose concerns from the list.", field="concerns")
    if Consultation.Concern.OTHER in data.concerns and not data.concerns_other.strip():
        raise ClinicalError("Say what the other concern is.", field="concerns_other")
    if data.skin_type not in Consultation.SkinType.values:
        raise ClinicalError("Choose the skin type.", field="skin_type")
    if data.fitzpatrick not in Consultation.Fitzpatrick.values:
        raise ClinicalError("Choose a Fitzpatrick type from I to VI.", field="fitzpatrick")
    for name in ("hydration", "elasticity", "sensitivity"):
        if getattr(data, name) not in Consultation.Level.values:
            raise ClinicalError("Choose a level.", field=name)
    if any(z not in Zone.values for z in data.plan_zones):
        raise ClinicalError("Choose areas from the list.", field="plan_zones")


def consultation_save(
    *,
    patient: Patient,
    by: User,
    data: ConsultationData,
    consultation: Consultation | None = None,
) -> Consultation:
    clinician_required(by=by, action="write a consultation")
    _check(data)
    with transaction.atomic():
        created = consultation is None
        if consultation is None:
            consultation = Consultation(patient=patient, practitioner=by)
        else:
            consultation = Consultation.objects.select_for_update(of=("self",)).get(
                pk=consultation.pk
            )
            if consultation.is_signed:
                raise RecordLocked("This consultation is signed. Add an addendum instead.")
            if consultation.practitioner_id != by.pk:
                raise RecordLocked("Only the practitioner who wrote it can change it.")
        for name, value in vars(data).items():
            if name != "plan_products":
                setattr(consultation, name, value.strip() if isinstance(value, str) else value)
        consultation.save()
        consultation.plan_products.set(data.plan_products)
        audit_log(
            actor=by,
            patient=patient,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            obj=consultation,
        )
    return consultation


def consultation_sign(*, consultation: Consultation, by: User) -> Consultation:
    clinician_required(by=by, action="sign a consultation")
    with transaction.atomic():
        consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=consultation.pk)
        if consultation.is_signed:
            raise RecordLocked("This consultation is already signed.")
        if consultation.practitioner_id != by.pk:
            raise RecordLocked("Only the practitioner who wrote it can sign it.")
        if not consultation.risks_explained:
            raise ClinicalError(
                "Explain the risks to the patient and tick that you did before signing.",
                field="risks_explained",
            )
        if not consultation.recommendation.strip():
            raise ClinicalError("Write the recommendation before signing.", field="recommendation")
        consultation.signed_at = timezone.now()
        consultation.save(update_fields=["signed_at", "updated_at"])
        audit_log(
            actor=by, patient=consultation.patient, action=AuditEntry.Action.SIGN, obj=consultation
        )
    return consultation
