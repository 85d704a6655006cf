"""A patient's clinical overview and the practitioners' dashboard."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from patients.models import Patient

from ..selectors import dashboard_reactions, patient_flags, patient_timeline
from .common import VIEW


@allow(CLINICAL)
def patient_clinical(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    timeline = patient_timeline(patient=patient)
    audit_log(actor=request.user, patient=patient, action=VIEW, obj=patient)
    return render(
        request,
        "clinical/patient_clinical.html",
        {"patient": patient, "flags": patient_flags(patient=patient), **timeline},
    )


@allow(CLINICAL)
def dashboard(request: StaffRequest) -> HttpResponse:
    reactions = dashboard_reactions()
    audit_log(actor=request.user, patient=None, action=VIEW, object_type="dashboard")
    return render(request, "clinical/dashboard.html", reactions)
