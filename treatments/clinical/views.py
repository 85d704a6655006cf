"""Clinical screens. Every view is for clinical roles only and leaves an audit entry."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mesoclinic.access import CLINICAL, MANAGEMENT, allow
from mesoclinic.errors import DomainError
from patients.models import Patient
from treatments.models import Session
from treatments.products.models import LotUsage

from . import forms as f
from .models import (
    AuditEntry,
    ClinicalPhoto,
    ClinicalSettings,
    ConsentSignature,
    ConsentText,
    Consultation,
    Reaction,
    Screening,
    ScreeningRule,
    Zone,
)
from .selectors import (
    consent_texts_current,
    dashboard_reactions,
    patient_flags,
    patient_timeline,
    photos_compare,
    session_for_record,
)
from .services.audit import audit_log
from .services.consent import consent_sign, consent_text_publish, photo_consent_set
from .services.consultation import ConsultationData, consultation_save, consultation_sign
from .services.photos import photo_upload
from .services.reactions import reaction_report, reaction_update
from .services.records import (
    RecordData,
    addendum_add,
    record_product_add,
    record_product_remove,
    record_readiness,
    record_save,
    record_sign,
)
from .services.rules import clinical_settings_update, screening_rule_save
from .services.screening import screening_findings, screening_record

VIEW = AuditEntry.Action.VIEW


def _key(key: str) -> uuid.UUID:
    # Keys are random UUIDs; anything else cannot name a file, so it is simply not found.
    try:
        return uuid.UUID(key)
    except ValueError:
        raise Http404("No such file.") from None


def _session_or_404(pk: int) -> Session:
    try:
        return session_for_record(pk=pk)
    except Session.DoesNotExist:
        raise Http404("No such session.") from None


def _fail(form: f.forms.Form, err: DomainError) -> None:
    field = err.field if err.field in form.fields else None
    form.add_error(field, err.message)


# --- patient overview ----------------------------------------------------------------------


@allow(CLINICAL)
def patient_clinical(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    timeline = patient_timeline(patient=patient)
    audit_log(actor=request.user, patient=patient, action=VIEW, obj=patient)
    return render(
        request,
        "clinical/patient_clinical.html",
        {"patient": patient, "flags": patient_flags(patient=patient), **timeline},
    )


@allow(CLINICAL)
def dashboard(request: HttpRequest) -> HttpResponse:
    reactions = dashboard_reactions()
    audit_log(actor=request.user, patient=None, action=VIEW, object_type="dashboard")
    return render(request, "clinical/dashboard.html", reactions)


# --- consultation --------------------------------------------------------------------------


def _consultation_data(form: f.ConsultationForm) -> ConsultationData:
    data = dict(form.cleaned_data)
    data["plan_products"] = list(data["plan_products"])
    return ConsultationData(**data)


@allow(CLINICAL)
def consultation_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    form = f.ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = consultation_save(
                patient=patient, by=request.user, data=_consultation_data(form)
            )
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Consultation saved as a draft. Sign it when complete.")
            return redirect("clinical:consultation_detail", pk=consultation.pk)
    return render(request, "clinical/consultation_form.html", {"patient": patient, "form": form})


@allow(CLINICAL)
def consultation_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
            _fail(form, err)
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
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
def consultation_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
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
def consultation_addendum(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, pk=pk)
    form = f.AddendumForm(request.POST)
    if form.is_valid():
        try:
            addendum_add(consultation=consultation, by=request.user, text=form.cleaned_data["text"])
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, "Addendum added.")
    else:
        messages.error(request, "Write the addendum (5,000 characters at most).")
    return redirect("clinical:consultation_detail", pk=pk)


# --- screening -----------------------------------------------------------------------------


@allow(CLINICAL)
def screening_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    rules = list(ScreeningRule.objects.filter(active=True))
    form = f.ScreeningForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        try:
            screening = screening_record(patient=patient, by=request.user, answers=form.answers())
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Screening recorded.")
            return redirect("clinical:screening_detail", pk=screening.pk)
    return render(request, "clinical/screening_form.html", {"patient": patient, "form": form})


@allow(CLINICAL)
def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
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


# --- consent -------------------------------------------------------------------------------


@allow(CLINICAL)
def consent_overview(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    timeline = patient_timeline(patient=patient)
    signed = {sig.text_id for sig in timeline["signatures"]}
    audit_log(actor=request.user, patient=patient, action=VIEW, object_type="consent")
    return render(
        request,
        "clinical/consent_overview.html",
        {
            "patient": patient,
            "texts": [(text, text.pk in signed) for text in consent_texts_current()],
            "signatures": timeline["signatures"],
            "photo_consent": timeline["photo_consent"],
            "photo_form": f.PhotoConsentForm(),
        },
    )


@allow(CLINICAL)
def consent_sign_view(request: HttpRequest, patient_pk: int, text_pk: int) -> HttpResponse:
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
            _fail(form, err)
        else:
            messages.success(request, f"Consent signed (version {signature.version}).")
            return redirect("clinical:consent_overview", patient_pk=patient.pk)
    return render(
        request, "clinical/consent_sign.html", {"patient": patient, "text": text, "form": form}
    )


@allow(CLINICAL)
def consent_signature_detail(request: HttpRequest, key: str) -> HttpResponse:
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("patient", "witnessed_by", "session_type"),
        key=_key(key),
    )
    audit_log(actor=request.user, patient=signature.patient, action=VIEW, obj=signature)
    return render(
        request,
        "clinical/consent_signature.html",
        {"signature": signature, "patient": signature.patient},
    )


def _file_response(field_file: object, content_type: str) -> FileResponse:
    try:
        handle = field_file.open("rb")  # type: ignore[attr-defined]
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    response = FileResponse(handle, content_type=content_type)
    # Clinical images never sit in a shared or browser cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@allow(CLINICAL)
def consent_signature_image(request: HttpRequest, key: str) -> HttpResponse:
    signature = get_object_or_404(ConsentSignature.objects.select_related("patient"), key=_key(key))
    audit_log(
        actor=request.user,
        patient=signature.patient,
        action=AuditEntry.Action.DOWNLOAD,
        obj=signature,
    )
    return _file_response(signature.signature, "image/png")


@allow(CLINICAL)
@require_POST
def photo_consent_change(request: HttpRequest, patient_pk: int) -> HttpResponse:
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
def consent_texts(request: HttpRequest) -> HttpResponse:
    form = f.ConsentTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            text = consent_text_publish(by=request.user, **form.cleaned_data)
        except DomainError as err:
            _fail(form, err)
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


# --- session record ------------------------------------------------------------------------


def _record_context(request: HttpRequest, session_pk: int, **extra: object) -> dict:
    session = _session_or_404(session_pk)
    record = getattr(session, "clinical_record", None)
    context = {
        "session": session,
        "patient": session.patient,
        "record": record,
        "readiness": record_readiness(session=session),
        "usages": list(session.lot_usages.all()),
        "can_edit": record is None
        or (not record.is_signed and record.author_id == request.user.pk),
        "product_form": f.ProductUseForm(),
        "sign_form": f.SignForm(initial={"ended_at": f.local_now_input()}),
        "addendum_form": f.AddendumForm(),
        "zones": Zone.choices,
    }
    context.update(extra)
    return context


def _record_initial(record: object) -> dict:
    if record is None:
        return {"spacing_mm": 10}
    return {name: getattr(record, name) for name in RecordData.FIELDS}


@allow(CLINICAL)
def record(request: HttpRequest, session_pk: int) -> HttpResponse:
    context = _record_context(request, session_pk)
    session, existing = context["session"], context["record"]
    form = f.RecordForm(request.POST or None, initial=_record_initial(existing))
    if request.method == "POST" and form.is_valid():
        try:
            record_save(session=session, by=request.user, data=RecordData(**form.cleaned_data))
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Record saved. Add the products used, then sign.")
            return redirect("clinical:record", session_pk=session.pk)
    elif request.method != "POST":
        audit_log(
            actor=request.user,
            patient=session.patient,
            action=VIEW,
            obj=existing or session,
        )
    context["form"] = form
    return render(request, "clinical/record.html", context, status=200)


def _record_or_404(session_pk: int):
    from .models import SessionRecord

    return get_object_or_404(
        SessionRecord.objects.select_related("session", "patient"), session_id=session_pk
    )


@allow(CLINICAL)
@require_POST
def record_product(request: HttpRequest, session_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    form = f.ProductUseForm(request.POST)
    if form.is_valid():
        try:
            record_product_add(
                record=record_obj,
                lot=form.cleaned_data["lot"],
                volume_ml=form.cleaned_data["volume_ml"],
                by=request.user,
            )
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Product recorded.")
            return redirect("clinical:record", session_pk=session_pk)
    context = _record_context(request, session_pk, product_form=form)
    context["form"] = f.RecordForm(initial=_record_initial(context["record"]))
    return render(request, "clinical/record.html", context, status=400)


@allow(CLINICAL)
@require_POST
def record_product_delete(request: HttpRequest, session_pk: int, usage_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    usage = get_object_or_404(LotUsage, pk=usage_pk, session_id=session_pk)
    try:
        record_product_remove(record=record_obj, usage=usage, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, "Product line removed; its volume is back in stock.")
    return redirect("clinical:record", session_pk=session_pk)


@allow(CLINICAL)
@require_POST
def record_sign_view(request: HttpRequest, session_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    form = f.SignForm(request.POST)
    if form.is_valid():
        try:
            record_sign(record=record_obj, by=request.user, ended_at=form.cleaned_data["ended_at"])
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Record signed and the session completed.")
            return redirect("clinical:record", session_pk=session_pk)
    context = _record_context(request, session_pk, sign_form=form)
    context["form"] = f.RecordForm(initial=_record_initial(context["record"]))
    return render(request, "clinical/record.html", context, status=400)


@allow(CLINICAL)
@require_POST
def record_addendum(request: HttpRequest, session_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    form = f.AddendumForm(request.POST)
    if form.is_valid():
        try:
            addendum_add(record=record_obj, by=request.user, text=form.cleaned_data["text"])
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, "Addendum added.")
    else:
        messages.error(request, "Write the addendum (5,000 characters at most).")
    return redirect("clinical:record", session_pk=session_pk)


# --- photos --------------------------------------------------------------------------------


@allow(CLINICAL)
def photos(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = _session_or_404(session_pk)
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
            _fail(form, err)
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
def photo_file(request: HttpRequest, key: str) -> HttpResponse:
    photo = get_object_or_404(ClinicalPhoto.objects.select_related("patient"), key=_key(key))
    audit_log(
        actor=request.user, patient=photo.patient, action=AuditEntry.Action.DOWNLOAD, obj=photo
    )
    return _file_response(photo.image, "image/jpeg")


@allow(CLINICAL)
def photo_compare(request: HttpRequest, patient_pk: int) -> HttpResponse:
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


# --- reactions -----------------------------------------------------------------------------


@allow(CLINICAL)
def reaction_create(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = _session_or_404(session_pk)
    form = f.ReactionForm(request.POST or None, initial={"onset": f.local_now_input()})
    if request.method == "POST" and form.is_valid():
        try:
            reaction_report(
                session=session,
                patient=session.patient,
                source="practitioner",
                reported_by=request.user,
                **form.cleaned_data,
            )
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Reaction recorded.")
            return redirect("clinical:patient", patient_pk=session.patient_id)
    return render(
        request,
        "clinical/reaction_form.html",
        {"session": session, "patient": session.patient, "form": form},
    )


@allow(CLINICAL)
def reaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reaction = get_object_or_404(
        Reaction.objects.select_related("patient", "session__session_type", "reported_by"), pk=pk
    )
    form = f.ReactionUpdateForm(
        request.POST or None,
        initial={
            "severity": reaction.severity,
            "action_taken": reaction.action_taken,
            "resolved_on": reaction.resolved_on,
            "resolution": reaction.resolution,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            reaction_update(reaction=reaction, by=request.user, **form.cleaned_data)
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Reaction updated.")
            return redirect("clinical:reaction_detail", pk=reaction.pk)
    elif request.method != "POST":
        audit_log(actor=request.user, patient=reaction.patient, action=VIEW, obj=reaction)
    return render(
        request,
        "clinical/reaction_detail.html",
        {"reaction": reaction, "patient": reaction.patient, "form": form},
    )


# --- manager: rules and settings --------------------------------------------------------------


@allow(MANAGEMENT)
def screening_rules(request: HttpRequest) -> HttpResponse:
    settings_row = ClinicalSettings.get()
    form = f.ClinicalSettingsForm(
        request.POST or None,
        initial={"screening_valid_months": settings_row.screening_valid_months},
    )
    if request.method == "POST" and form.is_valid():
        try:
            clinical_settings_update(by=request.user, **form.cleaned_data)
        except DomainError as err:
            _fail(form, err)
        else:
            messages.success(request, "Screening validity saved.")
            return redirect("clinical:screening_rules")
    return render(
        request,
        "clinical/screening_rules.html",
        {"rules": ScreeningRule.objects.all(), "settings_form": form},
    )


@allow(MANAGEMENT)
def screening_rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(ScreeningRule, pk=pk) if pk else None
    form = f.ScreeningRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        screening_rule_save(by=request.user, data=data, rule=rule)
        messages.success(request, "Screening rule saved.")
        return redirect("clinical:screening_rules")
    return render(request, "clinical/screening_rule_form.html", {"form": form, "rule": rule})
