"""The clinical record of a session: notes, products used, signature, addenda."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form
from treatments.models import Session
from treatments.products.models import LotUsage

from .. import forms as f
from ..models import SessionRecord
from ..selectors import record_draft_current
from ..services.drafts import record_draft_save, record_sign_saved
from ..services.records import (
    RecordData,
    record_product_add,
    record_product_remove,
    record_readiness,
    record_save,
)
from .common import VIEW, addendum_post, record_session_or_404

TEMPLATE = "clinical/record.html"
# The page's parts, each saved on its own through htmx without reloading the others.
RECORD_PART = "clinical/_record_part.html"
PRODUCTS_PART = "clinical/_record_products.html"


def _record_context(request: StaffRequest, session_pk: int, **forms: object) -> dict:
    """The record page's context; `forms` puts a refused form (with its errors) in place."""
    session = record_session_or_404(session_pk)
    record = getattr(session, "clinical_record", None)
    draft = record_draft_current(session=session, by=request.user, record=record)
    return {
        "session": session,
        "patient": session.patient,
        "record": record,
        "draft": draft,
        "readiness": record_readiness(session=session),
        "usages": list(session.lot_usages.all()),
        "can_edit": record is None
        or (not record.is_signed and record.author_id == request.user.pk),
        "form": f.RecordForm(initial=draft.data if draft else _record_initial(record)),
        "product_form": f.ProductUseForm(),
        "sign_form": f.SignForm(initial={"ended_at": f.local_now_input()}),
        "addendum_form": f.AddendumForm(),
        **forms,
    }


def _record_initial(record: SessionRecord | None) -> dict:
    if record is None:
        return {"spacing_mm": 10}
    return {name: getattr(record, name) for name in RecordData.FIELDS}


def _record_or_404(session_pk: int) -> SessionRecord:
    return get_object_or_404(
        SessionRecord.objects.select_related("session", "patient"), session_id=session_pk
    )


def _record_page_refused(request: StaffRequest, session_pk: int, **forms: object) -> HttpResponse:
    return render(request, TEMPLATE, _record_context(request, session_pk, **forms), status=400)


def _part(request: StaffRequest, template: str, session_pk: int, **forms: object) -> HttpResponse:
    """One part of the record page for htmx; a refusal is a 200 so that htmx shows it."""
    return render(request, template, _record_context(request, session_pk, **forms))


@allow(CLINICAL)
def record(request: StaffRequest, session_pk: int) -> HttpResponse:
    if request.method == "POST":
        # The page's reads (timeline prefetches, checklist, lot list) wait until there is a
        # page to draw: a save that succeeds redirects.
        form = f.RecordForm(request.POST)
        if form.is_valid():
            session = get_object_or_404(Session, pk=session_pk)
            try:
                record_save(session=session, by=request.user, data=RecordData(**form.cleaned_data))
            except DomainError as err:
                put_on_form(form, err)
            else:
                if request.htmx:
                    # The page's script: what was typed is saved, nothing to warn about.
                    response = _part(request, RECORD_PART, session_pk, form=form, saved=True)
                    return trigger_client_event(response, "recordSaved")
                messages.success(request, "Record saved. Add the products used, then sign.")
                return redirect("clinical:record", session_pk=session.pk)
        if request.htmx:
            return _part(request, RECORD_PART, session_pk, form=form)
        return render(request, TEMPLATE, _record_context(request, session_pk, form=form))
    context = _record_context(request, session_pk)
    audit_log(
        actor=request.user,
        patient=context["patient"],
        action=VIEW,
        obj=context["record"] or context["session"],
    )
    return render(request, TEMPLATE, context)


@allow(CLINICAL)
@require_POST
def record_product(request: StaffRequest, session_pk: int) -> HttpResponse:
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
            put_on_form(form, err)
        else:
            if request.htmx:
                return _part(request, PRODUCTS_PART, session_pk, product_note="Product recorded.")
            messages.success(request, "Product recorded.")
            return redirect("clinical:record", session_pk=session_pk)
    if request.htmx:
        return _part(request, PRODUCTS_PART, session_pk, product_form=form)
    return _record_page_refused(request, session_pk, product_form=form)


@allow(CLINICAL)
@require_POST
def record_product_delete(request: StaffRequest, session_pk: int, usage_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    usage = get_object_or_404(LotUsage, pk=usage_pk, session_id=session_pk)
    try:
        record_product_remove(record=record_obj, usage=usage, by=request.user)
    except DomainError as err:
        note, level = err.message, messages.ERROR
    else:
        note, level = "Product line removed; its volume is back in stock.", messages.SUCCESS
    if request.htmx:
        return _part(request, PRODUCTS_PART, session_pk, product_note=note)
    messages.add_message(request, level, note)
    return redirect("clinical:record", session_pk=session_pk)


@allow(CLINICAL)
@require_POST
def record_draft(request: StaffRequest, session_pk: int) -> HttpResponse:
    """Autosave (htmx, debounced): keep the form as typed, unchecked and unsigned."""
    session = get_object_or_404(Session.objects.select_related("patient"), pk=session_pk)
    data: dict[str, str | list[str]] = {
        name: request.POST.get(name, "") for name in RecordData.FIELDS
    }
    data["zones"] = request.POST.getlist("zones")
    try:
        draft = record_draft_save(session=session, by=request.user, data=data)
    except DomainError as err:
        return render(request, "clinical/_draft_status.html", {"error": err.message}, status=409)
    return render(request, "clinical/_draft_status.html", {"draft": draft})


@allow(CLINICAL)
@require_POST
def record_sign_view(request: StaffRequest, session_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    form = f.SignForm(request.POST)
    if form.is_valid():
        try:
            record_sign_saved(
                record=record_obj, by=request.user, ended_at=form.cleaned_data["ended_at"]
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Record signed and the session completed.")
            return redirect("clinical:record", session_pk=session_pk)
    return _record_page_refused(request, session_pk, sign_form=form)


@allow(CLINICAL)
@require_POST
def record_addendum(request: StaffRequest, session_pk: int) -> HttpResponse:
    record_obj = _record_or_404(session_pk)
    return addendum_post(request, target=record_obj, back="clinical:record", session_pk=session_pk)
