from __future__ import annotations

import csv

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from mesoclinic.access import CLINICAL, MANAGEMENT, StaffRequest, allow
from mesoclinic.audit.services import Action, audit_export, audit_log
from mesoclinic.errors import DomainError, put_on_form
from mesoclinic.exports import csv_safe

from . import selectors
from .forms import EvidenceFormSet, LotForm, LotSearchForm, ProductForm, evidence_from
from .models import Lot, Product
from .services import lot_receive, product_save


@allow(CLINICAL)
def product_list(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "products/product_list.html",
        {
            "products": selectors.products_list(),
            "default_threshold": selectors.LOW_STOCK_DEFAULT_ML,
        },
    )


@allow(CLINICAL)
def product_detail(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_detail(pk=pk)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    return render(
        request,
        "products/product_detail.html",
        {"product": product, "today": selectors.clinic_today()},
    )


def _product_form(request: StaffRequest, product: Product | None) -> HttpResponse:
    initial = ProductForm.initial_for(product) if product else None
    evidence_initial = (
        [{"kind": e.kind, "url": e.url, "title": e.title} for e in product.evidence.all()]
        if product
        else None
    )
    form = ProductForm(request.POST or None, initial=initial)
    formset = EvidenceFormSet(request.POST or None, initial=evidence_initial, prefix="evidence")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            product = product_save(
                product=product,
                data=form.product_data(),
                ingredients=form.cleaned_data["ingredients"],
                evidence=evidence_from(formset),
                by=request.user,
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"{product} saved.")
            return redirect("products:product_detail", pk=product.pk)
    return render(
        request,
        "products/product_form.html",
        {"form": form, "formset": formset, "product": product},
    )


@allow(MANAGEMENT)
def product_create(request: StaffRequest) -> HttpResponse:
    return _product_form(request, None)


@allow(MANAGEMENT)
def product_edit(request: StaffRequest, pk: int) -> HttpResponse:
    return _product_form(request, get_object_or_404(Product, pk=pk))


@allow(MANAGEMENT)
def lot_create(request: StaffRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    form = LotForm(request.POST or None, initial={"received_on": selectors.clinic_today()})
    if request.method == "POST" and form.is_valid():
        try:
            lot = lot_receive(product=product, by=request.user, **form.cleaned_data)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Lot {lot.lot_number} taken into stock.")
            return redirect("products:product_detail", pk=product.pk)
    return render(request, "products/lot_form.html", {"form": form, "product": product})


@allow(MANAGEMENT)
def stock_dashboard(request: StaffRequest) -> HttpResponse:
    template = "products/_stock_warnings.html" if request.htmx else "products/stock_dashboard.html"
    return render(request, template, {"warnings": selectors.stock_warnings()})


@allow(MANAGEMENT)
def recall_search(request: StaffRequest) -> HttpResponse:
    form = LotSearchForm(request.GET or None)
    lots = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        lots = list(selectors.lots_search(query=form.cleaned_data["q"]))
    return render(request, "products/recall_search.html", {"form": form, "lots": lots})


@allow(MANAGEMENT)
def lot_recall(request: StaffRequest, pk: int) -> HttpResponse:
    lot = get_object_or_404(Lot.objects.select_related("product"), pk=pk)
    usages = selectors.lot_recall(lot=lot)
    patients = {usage.session.patient_id for usage in usages if usage.signed}
    # The list names every treated patient with their contact details: one entry per look.
    audit_log(
        actor=request.user,
        patient=None,
        action=Action.VIEW,
        obj=lot,
        note=f"lot recall ({len(patients)} patients)",
    )
    return render(
        request,
        "products/lot_recall.html",
        {
            "lot": lot,
            "usages": [usage for usage in usages if usage.signed],
            "drafts": [usage for usage in usages if not usage.signed],
            "patient_count": len(patients),
        },
    )


CSV_HEADER = [
    "patient_id",
    "last_name",
    "first_name",
    "date_of_birth",
    "email",
    "phone",
    "session_id",
    "session_start_local",
    "session_type",
    "session_status",
    "practitioner",
    "product",
    "lot_number",
    "volume_ml",
    "record",
]


@allow(MANAGEMENT)
def lot_recall_csv(request: StaffRequest, pk: int) -> HttpResponse:
    lot = get_object_or_404(Lot.objects.select_related("product"), pk=pk)
    usages = selectors.lot_recall(lot=lot)
    audit_export(actor=request.user, what="lot recall CSV", obj=lot, rows=len(usages))
    zone = timezone.get_current_timezone()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"recall-{lot.product.pk}-{lot.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for usage in usages:
        session, patient = usage.session, usage.session.patient
        row = [
            patient.pk,
            patient.last_name,
            patient.first_name,
            patient.date_of_birth.isoformat(),
            patient.email,
            patient.phone,
            session.pk,
            session.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            session.session_type.name,
            session.get_status_display(),
            session.practitioner.display_name,
            lot.product.name,
            lot.lot_number,
            usage.volume_ml,
            "signed" if usage.signed else "draft",
        ]
        writer.writerow([csv_safe(value) for value in row])
    return response
