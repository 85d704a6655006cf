"""Front-desk patient pages: find, register, edit, consents, and the booking form's picker."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow
from mesoclinic.errors import DomainError, PossibleDuplicate, put_on_form
from treatments.clinical.selectors import patient_flags
from treatments.selectors import patient_sessions

from . import selectors, services
from .forms import ConsentForm, PatientForm, PatientSearchForm
from .models import ConsentChange, Patient

PICKER_LIMIT = 10


def _patient_or_404(pk: int) -> Patient:
    try:
        return selectors.patient_detail_get(pk=pk)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


def _is_partial(request: StaffRequest) -> bool:
    # A history restore asks for the whole page, although it comes from htmx.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _search(request: StaffRequest, *, limit: int) -> dict[str, Any]:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    parsed = selectors.parse_search_query(query)
    results = selectors.patients_search(query=query, limit=limit) if query else []
    return {"search_form": form, "q": query, "parsed": parsed, "results": results, "limit": limit}


@allow(BOOKING)
def patient_list(request: StaffRequest) -> HttpResponse:
    context = _search(request, limit=50)
    if not context["q"]:
        context["recent"] = selectors.patients_recent(limit=20)
    template = "patients/_results.html" if _is_partial(request) else "patients/patient_list.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@allow(BOOKING)
def patient_picker(request: StaffRequest) -> HttpResponse:
    return render(request, "patients/_picker.html", _search(request, limit=PICKER_LIMIT))


@allow(BOOKING)
def patient_create(request: StaffRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    duplicate: PossibleDuplicate | None = None
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(**form.cleaned_data, created_by=request.user)
        except PossibleDuplicate as err:
            # A question for the desk rather than an error: shown with the matches to open
            # and the "Create anyway" box.
            duplicate = err
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"{patient.full_name} is registered.")
            return redirect("patients:patient_detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "duplicate": duplicate})


@allow(BOOKING)
def patient_detail(request: StaffRequest, pk: int) -> HttpResponse:
    patient = _patient_or_404(pk)
    context = {
        "patient": patient,
        "age": selectors.age_on(patient.date_of_birth, timezone.localdate()),
        "sessions": patient_sessions(patient=patient),
        "consents": selectors.patient_consents(patient=patient),
        # Safety flags: the desk sees *that* there is a flag, no detail.
        "flags": patient_flags(patient=patient),
    }
    return render(request, "patients/patient_detail.html", context)


@allow(BOOKING)
def patient_edit(request: StaffRequest, pk: int) -> HttpResponse:
    patient = _patient_or_404(pk)
    initial = {
        name: getattr(patient, name)
        for name in ("first_name", "last_name", "date_of_birth", "email", "phone", "address")
    }
    form = PatientForm(request.POST or None, initial=initial, with_consents=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=patient, **form.cleaned_data, by=request.user)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Details saved.")
            return redirect("patients:patient_detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


@allow(BOOKING)
@require_POST
def patient_consent(request: StaffRequest, pk: int) -> HttpResponse:
    patient = _patient_or_404(pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That consent change was not understood; nothing was changed.")
        return redirect("patients:patient_detail", pk=patient.pk)
    kind, given = form.cleaned_data["kind"], form.cleaned_data["given"]
    try:
        change = services.patient_consent_set(
            patient=patient, kind=kind, given=given, by=request.user
        )
    except DomainError as err:
        messages.error(request, err.message)
    else:
        label = ConsentChange.Kind(kind).label
        state = "given" if given else "withdrawn"
        if change is None:
            messages.info(request, f"{label}: consent was already {state}.")
        else:
            messages.success(request, f"{label}: consent {state}.")
    return redirect("patients:patient_detail", pk=patient.pk)
