"""Consultations: draft, edit, sign, and addenda once signed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from .. import forms as f
from ..models import Consultation
from ..services.consultation import ConsultationData, consultation_save, consultation_sign
from .common import VIEW, addendum_post


def _consultation_data(form: f.ConsultationForm) -> ConsultationData:
    data = dict(form.cleaned_data)
    data["plan_products"] = list(data["plan_products"])
    return ConsultationData(**data)


@allow(CLINICAL)
def consultation_create(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    form = f.ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = consultation_save(
                patient=patient, by=request.user, data=_consultation_data(form)
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Consultation saved as a draft. Sign it when complete.")
            return redirect("clinical:consultation_detail", pk=consultation.pk)
    return render(request, "clinical/consultation_form.html", {"patient": patient, "form": form})


@allow(CLINICAL)
def consultation_edit(request: StaffRequest, pk: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation.objects.select_related("patient"), pk=pk)
    initial = f.ConsultationForm.initial_from(consultation)
    form = f.ConsultationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            consultation_save(
                patient=consultation.patient,
                by=request.user,
                data=_consultation_data(form),
                consultation=consultation,
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Consultation updated.")
            return redirect("clinical:consultation_detail", pk=consultation.pk)
    else:
        audit_log(actor=request.user, patient=consultation.patient, action=VIEW, obj=consultation)
    return render(
        request,
        "clinical/consultation_form.html",
        {"patient": consultation.patient, "form": form, "consultation": consultation},
    )


@allow(CLINICAL)
def consultation_detail(request: StaffRequest, pk: int) -> HttpResponse:
    consultation = get_object_or_404(
        Consultation.objects.select_related("patient", "practitioner").prefetch_related(
            "plan_products", "addenda__author"
        ),
        pk=pk,
    )
    audit_log(actor=request.user, patient=consultation.patient, action=VIEW, obj=consultation)
    return render(
        request,
        "clinical/consultation_detail.html",
        {
            "consultation": consultation,
            "patient": consultation.patient,
            "addendum_form": f.AddendumForm(),
        },
    )


@allow(CLINICAL)
@require_POST
def consultation_sign_view(request: StaffRequest, pk: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=pk)
    try:
        consultation_sign(consultation=consultation, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, "Consultation signed. Later corrections are addenda.")
    return redirect("clinical:consultation_detail", pk=pk)


@allow(CLINICAL)
@require_POST
def consultation_addendum(request: StaffRequest, pk: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=pk)
    return addendum_post(request, target=consultation, back="clinical:consultation_detail", pk=pk)
