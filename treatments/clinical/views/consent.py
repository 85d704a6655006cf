"""Treatment consent (signed versions of the consent texts) and photo consent."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mesoclinic.access import CLINICAL, MANAGEMENT, StaffRequest, allow
from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from .. import forms as f
from ..models import ConsentSignature, ConsentText
from ..selectors import consent_signatures, consent_texts_current, photo_consent_state
from ..services.consent import consent_sign, consent_text_publish, photo_consent_set
from .common import VIEW, file_response, key_or_404


@allow(CLINICAL)
def consent_overview(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    signatures = consent_signatures(patient=patient)
    signed = {sig.text_id for sig in signatures}
    audit_log(actor=request.user, patient=patient, action=VIEW, object_type="consent")
    return render(
        request,
        "clinical/consent_overview.html",
        {
            "patient": patient,
            "texts": [(text, text.pk in signed) for text in consent_texts_current()],
            "signatures": signatures,
            "photo_consent": photo_consent_state(patient=patient),
            "photo_form": f.PhotoConsentForm(),
        },
    )


@allow(CLINICAL)
def consent_sign_view(request: StaffRequest, patient_pk: int, text_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    text = get_object_or_404(ConsentText.objects.select_related("session_type"), pk=text_pk)
    form = f.ConsentSignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signature = consent_sign(
                patient=patient,
                text=text,
                typed_name=form.cleaned_data["typed_name"],
                signature_data_url=form.cleaned_data["signature"],
                by=request.user,
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Consent signed (version {signature.version}).")
            return redirect("clinical:consent_overview", patient_pk=patient.pk)
    return render(
        request, "clinical/consent_sign.html", {"patient": patient, "text": text, "form": form}
    )


@allow(CLINICAL)
def consent_signature_detail(request: StaffRequest, key: str) -> HttpResponse:
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("patient", "witnessed_by", "session_type"),
        key=key_or_404(key),
    )
    audit_log(actor=request.user, patient=signature.patient, action=VIEW, obj=signature)
    return render(
        request,
        "clinical/consent_signature.html",
        {"signature": signature, "patient": signature.patient},
    )


@allow(CLINICAL)
def consent_signature_image(request: StaffRequest, key: str) -> FileResponse:
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("patient"), key=key_or_404(key)
    )
    audit_log(
        actor=request.user,
        patient=signature.patient,
        action=AuditEntry.Action.DOWNLOAD,
        obj=signature,
    )
    return file_response(signature.signature, "image/png")


@allow(CLINICAL)
@require_POST
def photo_consent_change(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    form = f.PhotoConsentForm(request.POST)
    if form.is_valid():
        row = photo_consent_set(
            patient=patient,
            purpose=form.cleaned_data["purpose"],
            given=form.cleaned_data["given"],
            by=request.user,
        )
        messages.success(
            request,
            f"Photo consent for {row.get_purpose_display().lower()}: "
            f"{'given' if row.given else 'withdrawn'}.",
        )
    else:
        messages.error(request, "Choose the purpose and whether consent is given or withdrawn.")
    return redirect("clinical:consent_overview", patient_pk=patient.pk)


@allow(MANAGEMENT)
def consent_texts(request: StaffRequest) -> HttpResponse:
    form = f.ConsentTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            text = consent_text_publish(by=request.user, **form.cleaned_data)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(
                request, f"Version {text.version} published; patients will be asked to re-consent."
            )
            return redirect("clinical:consent_texts")
    return render(
        request,
        "clinical/consent_texts.html",
        {"texts": consent_texts_current(), "form": form},
    )
