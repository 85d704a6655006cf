"""A patient's clinical overview and the practitioners' dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError
from patients.models import Patient

from ..selectors import (
    dashboard_reactions,
    patient_flags,
    patient_timeline,
    questionnaires_to_review,
)
from ..services.holds import booking_hold_lift, hold_lifter
from .common import VIEW


@allow(CLINICAL)
def patient_clinical(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    timeline = patient_timeline(patient=patient)
    audit_log(actor=request.user, patient=patient, action=VIEW, obj=patient)
    return render(
        request,
        "clinical/patient_clinical.html",
        {
            "patient": patient,
            "flags": patient_flags(patient=patient),
            "can_lift_hold": patient.booking_hold and hold_lifter(user=request.user),
            **timeline,
        },
    )


@allow(CLINICAL)
@require_POST
def booking_hold_lift_view(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    try:
        booking_hold_lift(patient=patient, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, f"{patient.full_name} can be booked at the desk again.")
    return redirect("clinical:patient", patient_pk=patient_pk)


@allow(CLINICAL)
def dashboard(request: StaffRequest) -> HttpResponse:
    reactions = dashboard_reactions()
    audit_log(actor=request.user, patient=None, action=VIEW, object_type="dashboard")
    context = {**reactions, "questionnaires": questionnaires_to_review()}
    return render(request, "clinical/dashboard.html", context)
