"""Data-protection pages on a patient: the subject-access download and the erasure request.

Who may export: a practitioner or a manager. Not the front desk (the export holds clinical
notes, screening answers and photos, which the desk never sees: DOMAIN.md), and not an
aesthetic therapist: disclosing health records to the patient is for a registered health
professional or the clinic as data controller (UK DPA 2018, Sch. 3 Part 2, the "appropriate
health professional"). Erasure is the manager's alone (the clinic as controller decides).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mesoclinic.access import MANAGEMENT, Role, allow
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from . import selectors, services
from .forms import ErasureForm

EXPORT_ROLES = frozenset({Role.PRACTITIONER, Role.MANAGER})


@allow(EXPORT_ROLES)
def patient_export(request: HttpRequest, pk: int) -> FileResponse:
    patient = get_object_or_404(Patient, pk=pk)
    archive = services.patient_export(patient=patient, by=request.user)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"patient-{patient.pk}-subject-access.zip",
        content_type="application/zip",
    )


@allow(MANAGEMENT)
def patient_erasure(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = ErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erasure = services.erasure_request(patient=patient, by=request.user)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Erasure request recorded. {erasure.reason}")
            return redirect("patients:patient_detail", pk=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "hold": selectors.patient_clinical_hold(patient=patient),
        "pending": selectors.erasure_pending(patient=patient),
    }
    return render(request, "dataprotection/erasure_form.html", context)
