"""Before and after photos: upload, the file itself, side-by-side comparison."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from .. import forms as f
from ..models import ClinicalPhoto, Zone
from ..selectors import photos_compare
from ..services.photos import photo_upload
from .common import VIEW, file_response, key_or_404, session_or_404


@allow(CLINICAL)
def photos(request: StaffRequest, session_pk: int) -> HttpResponse:
    session = session_or_404(session_pk)
    form = f.PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            photo_upload(
                session=session,
                stage=data["stage"],
                zone=data["zone"],
                view=data["view"],
                upload=data["image"],
                by=request.user,
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Photo added.")
            return redirect("clinical:photos", session_pk=session.pk)
    elif request.method != "POST":
        audit_log(
            actor=request.user,
            patient=session.patient,
            action=VIEW,
            object_type="photos",
            object_id=session.pk,
        )
    return render(
        request,
        "clinical/photos.html",
        {"session": session, "patient": session.patient, "form": form},
    )


@allow(CLINICAL)
def photo_file(request: StaffRequest, key: str) -> FileResponse:
    photo = get_object_or_404(ClinicalPhoto.objects.select_related("patient"), key=key_or_404(key))
    audit_log(
        actor=request.user, patient=photo.patient, action=AuditEntry.Action.DOWNLOAD, obj=photo
    )
    return file_response(photo.image, "image/jpeg")


@allow(CLINICAL)
def photo_compare(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    zone = request.GET.get("zone") or None
    if zone not in (None, *Zone.values):
        zone = None
    pairs = photos_compare(patient=patient, zone=zone)
    audit_log(actor=request.user, patient=patient, action=VIEW, object_type="photo_compare")
    return render(
        request,
        "clinical/photo_compare.html",
        {"patient": patient, "pairs": pairs, "zone": zone, "zones": Zone.choices},
    )
