"""Before/after photos: only with the patient's photo consent, cleaned, stored privately."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from treatments.models import Session

from ..errors import ClinicalError
from ..models import ClinicalPhoto, PhotoConsent, Zone
from ..selectors import photo_consent_given
from .authority import clinician_required
from .images import photo_check_size, photo_clean


def photo_upload(
    *, session: Session, stage: str, zone: str, view: str, upload: UploadedFile, by: User
) -> ClinicalPhoto:
    clinician_required(by=by, action="add clinical photos")
    if stage not in ClinicalPhoto.Stage.values:
        raise ClinicalError("Choose before or after.", field="stage")
    if zone not in Zone.values:
        raise ClinicalError("Choose the area.", field="zone")
    if view not in ClinicalPhoto.View.values:
        raise ClinicalError("Choose the view.", field="view")
    if session.status not in Session.ACTIVE:
        raise ClinicalError("This session did not take place; photos go on a session that did.")
    if not photo_consent_given(patient=session.patient, purpose=PhotoConsent.Purpose.CLINICAL):
        raise ClinicalError(
            "The patient has not consented to photos for their clinical record (or withdrew "
            "it). Record photo consent first.",
            field="image",
        )
    if upload is None:
        raise ClinicalError("Choose a photo.", field="image")
    # Refused on its declared size before it is read into memory, then on its real length.
    # (Django always knows an upload's size; one without is refused as empty.)
    photo_check_size(upload.size or 0, field="image")
    clean = photo_clean(upload.read())
    with transaction.atomic():
        photo = ClinicalPhoto(
            patient=session.patient,
            session=session,
            stage=stage,
            zone=zone,
            view=view,
            width=clean.width,
            height=clean.height,
            uploaded_by=by,
        )
        photo.image.save(clean.name, clean.content, save=False)
        try:
            photo.save()
            audit_log(actor=by, patient=session.patient, action=AuditEntry.Action.CREATE, obj=photo)
        except Exception:
            photo.image.delete(save=False)
            raise
    return photo
