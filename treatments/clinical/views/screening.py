"""Screening questionnaires and, for managers, the rules and their validity."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mesoclinic.access import CLINICAL, MANAGEMENT, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from .. import forms as f
from ..models import ClinicalSettings, Screening, ScreeningRule
from ..selectors import questionnaire_answered, questionnaire_rules
from ..services.rules import clinical_settings_update, screening_rule_save
from ..services.screening import screening_findings, screening_record
from .common import VIEW


@allow(CLINICAL)
def screening_create(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    form = f.ScreeningForm(request.POST or None, rules=questionnaire_rules())
    # The answers the patient gave at home, pre-filled and marked unconfirmed. The form carries
    # which questionnaire it showed, so answers arriving meanwhile are not passed over.
    questionnaire = questionnaire_answered(patient=patient)
    shown = request.POST.get("questionnaire") if request.method == "POST" else None
    reviewed = questionnaire if questionnaire and shown == str(questionnaire.pk) else None
    if questionnaire is not None and (request.method == "GET" or reviewed is not None):
        form.prefill_reported(questionnaire)
        audit_log(actor=request.user, patient=patient, action=VIEW, obj=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            screening = screening_record(
                patient=patient, by=request.user, answers=form.answers(), questionnaire=reviewed
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Screening recorded.")
            return redirect("clinical:screening_detail", pk=screening.pk)
    return render(
        request,
        "clinical/screening_form.html",
        {
            "patient": patient,
            "form": form,
            "questionnaire": questionnaire if hasattr(form, "reported") else None,
        },
    )


@allow(CLINICAL)
def screening_detail(request: StaffRequest, pk: int) -> HttpResponse:
    screening = get_object_or_404(
        Screening.objects.select_related("patient", "taken_by").prefetch_related("answers__rule"),
        pk=pk,
    )
    audit_log(actor=request.user, patient=screening.patient, action=VIEW, obj=screening)
    return render(
        request,
        "clinical/screening_detail.html",
        {
            "screening": screening,
            "patient": screening.patient,
            "findings": screening_findings(screening=screening),
        },
    )


@allow(MANAGEMENT)
def screening_rules(request: StaffRequest) -> HttpResponse:
    settings_row = ClinicalSettings.get()
    form = f.ClinicalSettingsForm(
        request.POST or None,
        initial={"screening_valid_months": settings_row.screening_valid_months},
    )
    if request.method == "POST" and form.is_valid():
        try:
            clinical_settings_update(by=request.user, **form.cleaned_data)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Screening validity saved.")
            return redirect("clinical:screening_rules")
    return render(
        request,
        "clinical/screening_rules.html",
        {"rules": ScreeningRule.objects.all(), "settings_form": form},
    )


@allow(MANAGEMENT)
def screening_rule_edit(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(ScreeningRule, pk=pk) if pk else None
    form = f.ScreeningRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            screening_rule_save(by=request.user, data=data, rule=rule)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Screening rule saved.")
            return redirect("clinical:screening_rules")
    return render(request, "clinical/screening_rule_form.html", {"form": form, "rule": rule})
