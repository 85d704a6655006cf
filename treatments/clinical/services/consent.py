"""Treatment consent (versioned texts, drawn signatures) and photo consent."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient
from treatments.models import SessionType

from ..errors import ClinicalError
from ..models import ConsentSignature, ConsentText, PhotoConsent
from .authority import clinician_required
from .images import signature_clean


def consent_text_publish(
    *, session_type: SessionType, title: str, body: str, by: User
) -> ConsentText:
    """Publish the next version; every patient then needs to sign it before treatment."""
    title, body = title.strip(), body.strip()
    if not title:
        raise ClinicalError("Give the consent a title.", field="title")
    if not body:
        raise ClinicalError("Write the consent text.", field="body")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                latest = ConsentText.objects.filter(session_type=session_type).aggregate(
                    v=Max("version")
                )["v"]
                return ConsentText.objects.create(
                    session_type=session_type,
                    version=(latest or 0) + 1,
                    title=title,
                    body=body,
                    published_by=by,
                )
        except IntegrityError:
            # Two managers published at once: the unique constraint made one retry.
            continue
    raise ClinicalError(
        "Another version was published at the same moment; try again.", field="body"
    )


def consent_sign(
    *,
    patient: Patient,
    text: ConsentText,
    typed_name: str,
    signature_data_url: str,
    by: User,
) -> ConsentSignature:
    clinician_required(by=by, action="witness a consent signature")
    typed_name = " ".join(typed_name.split())
    if not typed_name:
        raise ClinicalError("The patient types their full name.", field="typed_name")
    if len(typed_name) > 200:
        raise ClinicalError("The name is too long (200 characters at most).", field="typed_name")
    current = (
        ConsentText.objects.filter(session_type_id=text.session_type_id)
        .order_by("-version")
        .first()
    )
    if current is None or current.pk != text.pk:
        raise ClinicalError(
            "A newer version of this consent was published meanwhile; reload and sign that one."
        )
    image = signature_clean(signature_data_url)
    with transaction.atomic():
        signature = ConsentSignature(
            patient=patient,
            text=text,
            session_type_id=text.session_type_id,
            version=text.version,
            title_snapshot=text.title,
            text_snapshot=text.body,
            typed_name=typed_name,
            witnessed_by=by,
        )
        signature.signature.save(image.name, image.content, save=False)
        try:
            signature.save()
            audit_log(actor=by, patient=patient, action=AuditEntry.Action.SIGN, obj=signature)
        except Exception:
            signature.signature.delete(save=False)
            raise
    return signature


def photo_consent_set(*, patient: Patient, purpose: str, given: bool, by: User) -> PhotoConsent:
    clinician_required(by=by, action="record photo consent")
    if purpose not in PhotoConsent.Purpose.values:
        raise ClinicalError("Choose what the photos may be used for.", field="purpose")
    with transaction.atomic():
        row = PhotoConsent.objects.create(
            patient=patient, purpose=purpose, given=given, recorded_by=by
        )
        audit_log(
            actor=by,
            patient=patient,
            action=AuditEntry.Action.CREATE if given else AuditEntry.Action.WITHDRAW,
            obj=row,
        )
    return row


def photo_consent_withdraw_on_request(
    *, patient: Patient, purposes: tuple[str, ...], by: User
) -> list[PhotoConsent]:
    """Withdraw the patient's photo consents for `purposes` because the patient asked (an
    erasure request). Not clinical authoring: it records the patient's own withdrawal, so the
    manager handling the request may record it without a clinical qualification."""
    withdrawn = []
    with transaction.atomic():
        for purpose in purposes:
            latest = (
                PhotoConsent.objects.filter(patient=patient, purpose=purpose)
                .order_by("-at", "-id")
                .first()
            )
            if latest is None or not latest.given:
                continue
            row = PhotoConsent.objects.create(
                patient=patient, purpose=purpose, given=False, recorded_by=by
            )
            audit_log(actor=by, patient=patient, action=AuditEntry.Action.WITHDRAW, obj=row)
            withdrawn.append(row)
    return withdrawn
