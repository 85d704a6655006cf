"""Writes for patients: registration, contact details, consents (with their history)."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.errors import DomainError, PossibleDuplicate

from .consent_hooks import consent_changed
from .models import ConsentChange, Patient, phone_digits
from .selectors import CONSENT_FIELDS, patients_possible_duplicates

log = logging.getLogger(__name__)


def _duplicate_message(matches: list[Patient]) -> str:
    if len(matches) == 1:
        return (
            "This may be a patient who is already registered. Open the record below to check; "
            "if it is a different person, tick 'Create anyway'."
        )
    return (
        f"This may be one of {len(matches)} patients who are already registered. Open the "
        "records below to check; if it is a different person, tick 'Create anyway'."
    )


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    email: str = "",
    phone: str = "",
    address: str = "",
    email_reminders_consent: bool = False,
    marketing_consent: bool = False,
    created_by: User | None,
    confirm_duplicate: bool = False,
    source: str = "front desk",
) -> Patient:
    """Register a patient, recording the consents given at registration.

    Raises PossibleDuplicate (listing the matches) when someone with the same name and birth
    date, email or phone is already registered, unless `confirm_duplicate` is set.
    """
    with transaction.atomic():
        if not confirm_duplicate:
            matches = patients_possible_duplicates(
                first_name=first_name,
                last_name=last_name,
                date_of_birth=date_of_birth,
                email=email,
                phone=phone,
            )
            if matches:
                raise PossibleDuplicate(_duplicate_message(matches), matches=matches)
        patient = Patient.objects.create(
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            date_of_birth=date_of_birth,
            email=email.strip(),
            phone=phone.strip(),
            phone_digits=phone_digits(phone),
            address=address.strip(),
            created_by=created_by,
        )
        wanted = {
            ConsentChange.Kind.EMAIL_REMINDERS: email_reminders_consent,
            ConsentChange.Kind.MARKETING: marketing_consent,
        }
        for kind, given in wanted.items():
            # Not consenting is the default, so only a consent given is a change to record.
            if given:
                patient_consent_set(
                    patient=patient, kind=kind, given=True, by=created_by, source=source
                )
    log.info("patient %s registered by user %s", patient.pk, getattr(created_by, "pk", None))
    return patient


def patient_update(
    *,
    patient: Patient,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    email: str = "",
    phone: str = "",
    address: str = "",
    by: User | None,
) -> Patient:
    """Change a patient's identity and contact details (consents go through patient_consent_set)."""
    patient.first_name = first_name.strip()
    patient.last_name = last_name.strip()
    patient.date_of_birth = date_of_birth
    patient.email = email.strip()
    patient.phone = phone.strip()
    # Search and duplicate checks read phone_digits, so it must never lag behind phone.
    patient.phone_digits = phone_digits(patient.phone)
    patient.address = address.strip()
    with transaction.atomic():
        patient.save(
            update_fields=[
                "first_name",
                "last_name",
                "date_of_birth",
                "email",
                "phone",
                "phone_digits",
                "address",
                "updated_at",
            ]
        )
    log.info("patient %s updated by user %s", patient.pk, getattr(by, "pk", None))
    return patient


def patient_consent_set(
    *,
    patient: Patient,
    kind: str,
    given: bool,
    by: User | None,
    source: str = "front desk",
) -> ConsentChange | None:
    """Give or withdraw one consent; returns the history row, or None when nothing changed.

    Message sending reads the Patient flag, so a withdrawal takes effect for the next message.
    """
    if kind not in CONSENT_FIELDS:
        raise DomainError("Unknown kind of consent.", field="kind")
    flag_field, at_field = CONSENT_FIELDS[kind]
    with transaction.atomic():
        # Lock the row: two desks toggling at once must leave one history row per real change.
        current = Patient.objects.select_for_update().only("pk", flag_field).get(pk=patient.pk)
        if getattr(current, flag_field) == given:
            setattr(patient, flag_field, given)
            return None
        now = timezone.now()
        Patient.objects.filter(pk=patient.pk).update(
            **{flag_field: given, at_field: now, "updated_at": now}
        )
        change = ConsentChange.objects.create(
            patient=patient,
            kind=kind,
            given=given,
            at=now,
            recorded_by=by,
            source=source[:32],
        )
        # Same transaction: waiting emails are skipped (or re-enabled) with the consent itself
        # (consent_hooks: messaging fills it).
        consent_changed(patient=patient, kind=kind, given=given)
    setattr(patient, flag_field, given)
    setattr(patient, at_field, now)
    return change
