"""Writes for data protection: the audited subject-access export, and erasure with retention.

Erasure (GDPR Art. 17) meets the duty to keep health records: UK adult records are kept 8 years
after the last treatment (NHS England Records Management Code of Practice 2021; the GMC's
guidance defers to it), a clinic setting (`Clinic.record_retention_years`). So:

- no clinical record: the patient is anonymised at once; their sessions stay, anonymous, for
  the clinic's statistics;
- clinical records: the clinical part is refused until the retention period ends, marketing
  (consent, nudges, photo use for teaching/marketing) stops at once, and the daily job
  (`erasures_complete_due`) anonymises the patient on that date.

Files are deleted from storage only after the transaction commits: a rollback never leaves a
row pointing at a deleted file.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import IO, Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError
from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from treatments.clinical.models import (
    Addendum,
    ClinicalPhoto,
    ConsentSignature,
    Consultation,
    PhotoConsent,
    Questionnaire,
    Reaction,
    RecordDraft,
    ReportedAnswer,
    ScreeningAnswer,
    SessionRecord,
)
from treatments.clinical.services.consent import photo_consent_withdraw_on_request
from treatments.courses.models import Course
from treatments.messaging.models import NUDGE_KINDS, OutboxMessage, Reason, Status
from treatments.models import Clinic, Session
from treatments.waitlist.models import Entry as WaitlistEntry

from .export import export_zip_file
from .models import ErasureRequest
from .selectors import (
    erasure_pending,
    patient_clinical_hold,
    patient_export_read,
    patient_upcoming_sessions,
)

log = logging.getLogger(__name__)

# Date of birth cannot be empty (the model requires it); an erased patient gets this one.
ERASED_DATE_OF_BIRTH = dt.date(1900, 1, 1)
ERASURE_SOURCE = "erasure request"
NUDGES_STOPPED = "Erasure requested: nudges stopped."


def patient_export(*, patient: Patient, by: Any) -> IO[bytes]:
    """The subject-access ZIP, rewound and ready to stream; one audit entry per export."""
    archive = export_zip_file(patient_export_read(patient=patient))
    audit_log(
        actor=by,
        patient=patient,
        action=AuditEntry.Action.EXPORT,
        object_type="patient",
        object_id=patient.pk,
        note="subject access",
    )
    log.info("patient %s exported by user %s", patient.pk, getattr(by, "pk", None))
    return archive


def _delete_files_on_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            if name:
                default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def _stop_marketing(*, patient: Patient, by: Any) -> None:
    patient_consent_set(
        patient=patient,
        kind=ConsentChange.Kind.MARKETING,
        given=False,
        by=by,
        source=ERASURE_SOURCE,
    )
    # Cancelled rather than skipped: consent given again later must not revive these.
    OutboxMessage.objects.filter(
        patient=patient, kind__in=NUDGE_KINDS, status__in=[Status.PENDING, Status.SKIPPED]
    ).update(
        status=Status.CANCELLED,
        reason_code=Reason.NOT_APPLICABLE,
        status_reason=NUDGES_STOPPED,
        updated_at=timezone.now(),
    )
    if by is not None:  # the daily job has no one to record it in the patient's name
        photo_consent_withdraw_on_request(
            patient=patient,
            purposes=(PhotoConsent.Purpose.TEACHING, PhotoConsent.Purpose.MARKETING),
            by=by,
        )


def _erase_clinical(*, patient: Patient) -> list[str]:
    """Past retention: photos go, signatures lose their image and typed name, free text in the
    clinical record is blanked. The coded rows stay (lot recall, statistics), anonymous."""
    photos = ClinicalPhoto.objects.filter(patient=patient)
    files = list(photos.values_list("image", flat=True))
    photos.delete()
    signatures = ConsentSignature.objects.filter(patient=patient)
    files += list(signatures.values_list("signature", flat=True))
    # A signed consent refuses save(); this is the one sanctioned change, after retention.
    signatures.update(signature="", typed_name="")
    Consultation.objects.filter(patient=patient).update(
        concerns_other="",
        goals="",
        skin_notes="",
        risks_notes="",
        recommendation="",
        plan_protocol="",
    )
    SessionRecord.objects.filter(patient=patient).update(
        notes="", immediate_reactions="", risk_reason=""
    )
    # An autosaved draft is a typing aid, not part of the record: nothing to retain.
    RecordDraft.objects.filter(session__patient=patient).delete()
    Reaction.objects.filter(patient=patient).update(description="", resolution="", action_taken="")
    ScreeningAnswer.objects.filter(screening__patient=patient).update(detail="")
    ReportedAnswer.objects.filter(questionnaire__patient=patient).update(detail="")
    Addendum.objects.filter(consultation__patient=patient).update(text="")
    Addendum.objects.filter(record__patient=patient).update(text="")
    return files


def _anonymise(*, patient: Patient, by: Any, now: dt.datetime, clinical: bool) -> list[str]:
    """Remove the patient's personal data; returns the stored files to delete after commit."""
    for kind in (ConsentChange.Kind.EMAIL_REMINDERS, ConsentChange.Kind.MARKETING):
        patient_consent_set(patient=patient, kind=kind, given=False, by=by, source=ERASURE_SOURCE)
    files = _erase_clinical(patient=patient) if clinical else []
    Patient.objects.filter(pk=patient.pk).update(
        first_name="Erased",
        last_name=f"patient #{patient.pk}",
        date_of_birth=ERASED_DATE_OF_BIRTH,
        email="",
        phone="",
        phone_digits="",
        address="",
        erased_at=now,
        updated_at=now,
    )
    OutboxMessage.objects.filter(patient=patient).delete()
    # Nothing more is asked of an erased patient (its email, above, is gone with the rest).
    Questionnaire.objects.filter(patient=patient, status=Questionnaire.Status.OPEN).update(
        status=Questionnaire.Status.CANCELLED, cancelled_reason="Erasure request."
    )
    # The waiting list holds what they asked for and the desk's note: gone, with its offers.
    WaitlistEntry.objects.filter(patient=patient).delete()
    # Sessions stay for the clinic's statistics, without the desk's free-text notes.
    Session.objects.filter(patient=patient).update(notes="", cancel_reason="", updated_at=now)
    Course.objects.filter(patient=patient).update(plan_reference="", stop_reason="")
    Course.objects.filter(patient=patient, status=Course.Status.ACTIVE).update(
        status=Course.Status.STOPPED, stopped_at=now, updated_at=now
    )
    patient.refresh_from_db()
    return files


def erasure_request(*, patient: Patient, by: Any, now: dt.datetime | None = None) -> ErasureRequest:
    """Record a patient's erasure request and do what the retention rule allows now."""
    now = now or timezone.now()
    with transaction.atomic():
        # One request at a time per patient: two managers clicking at once record one.
        # FOR NO KEY UPDATE, as booking takes it (treatments.services.booking): a booking of this
        # patient and this request queue on it; rows referencing the patient are not held up.
        patient = Patient.objects.select_for_update(no_key=True, of=("self",)).get(pk=patient.pk)
        if patient.erased_at is not None:
            raise DomainError("This patient's details have already been erased.")
        pending = erasure_pending(patient=patient)
        if pending is not None:
            raise DomainError(
                f"An erasure request was already recorded on {pending.requested_at:%d %b %Y}; "
                f"the clinical records are kept until {pending.retention_until:%d %b %Y}."
            )
        hold = patient_clinical_hold(patient=patient)
        if hold is None:
            upcoming = patient_upcoming_sessions(patient=patient, now=now)
            if upcoming:
                raise DomainError(
                    f"{patient.full_name} has {upcoming} upcoming session(s). Cancel them "
                    "first, then record the erasure request."
                )
            request = ErasureRequest.objects.create(
                patient=patient,
                requested_at=now,
                requested_by=by,
                outcome=ErasureRequest.Outcome.ERASED,
                reason="No clinical record: erased at once.",
                completed_at=now,
            )
            _delete_files_on_commit(_anonymise(patient=patient, by=by, now=now, clinical=False))
            note = "erased at once"
        else:
            request = ErasureRequest.objects.create(
                patient=patient,
                requested_at=now,
                requested_by=by,
                outcome=ErasureRequest.Outcome.RETAINED,
                retention_until=hold.retention_until,
                reason=(
                    f"Clinical records are kept {hold.years} years after the last treatment "
                    f"({hold.last_treatment:%d %b %Y}), until {hold.retention_until:%d %b %Y}. "
                    "Marketing consent and nudges are stopped now; the patient is anonymised "
                    "on that date."
                ),
            )
            _stop_marketing(patient=patient, by=by)
            note = f"clinical kept to {hold.retention_until.isoformat()}"
        audit_log(
            actor=by,
            patient=patient,
            action=AuditEntry.Action.ERASURE,
            object_type="erasurerequest",
            object_id=request.pk,
            note=note,
        )
    log.info("erasure request %s for patient %s: %s", request.pk, patient.pk, request.outcome)
    return request


def erasures_complete_due(*, now: dt.datetime | None = None) -> int:
    """Anonymise the patients whose retention period has ended. Safe to run twice (and in two
    workers at once): each request is claimed under a row lock and completed once."""
    now = now or timezone.now()
    clinic, _ = Clinic.objects.get_or_create(pk=1)
    today = now.astimezone(clinic.zone).date()
    due = list(
        ErasureRequest.objects.filter(
            completed_at__isnull=True,
            outcome=ErasureRequest.Outcome.RETAINED,
            retention_until__lte=today,
        ).values_list("pk", flat=True)
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            request = (
                ErasureRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, completed_at__isnull=True)
                .first()
            )
            if request is None:
                continue  # another run completed it, or holds it now
            patient = Patient.objects.select_for_update(no_key=True, of=("self",)).get(
                pk=request.patient_id
            )
            hold = patient_clinical_hold(patient=patient)
            if hold is not None and hold.retention_until > today:
                # Treated again after the request: the period runs from that treatment.
                request.retention_until = hold.retention_until
                request.save(update_fields=["retention_until"])
                continue
            files = _anonymise(patient=patient, by=None, now=now, clinical=True)
            request.completed_at = now
            request.save(update_fields=["completed_at"])
            audit_log(
                actor=None,
                patient=patient,
                action=AuditEntry.Action.ERASURE,
                object_type="erasurerequest",
                object_id=request.pk,
                note="retention ended",
            )
            _delete_files_on_commit(files)
            done += 1
    if done:
        log.info("erasure: %s patient(s) anonymised after their retention period", done)
    return done
