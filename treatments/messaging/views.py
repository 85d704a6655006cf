"""Staff pages for the outbox (the patients' link pages are in link_views.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow, can_see_clinical
from mesoclinic.errors import DomainError
from patients.models import Patient
from treatments.selectors import clinic_get

from . import selectors
from .models import STAFF_KINDS, OutboxMessage, Status
from .outbox import message_retry as outbox_message_retry
from .render import message_preview


@allow(BOOKING)
def outbox(request: StaffRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in selectors.ATTENTION_STATUSES else Status.FAILED
    rows = selectors.messages_clinic_wide(status=status)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/staff/outbox.html",
        {
            "page": page,
            "status": status,
            "counts": selectors.messages_status_counts(),
        },
    )


@allow(BOOKING)
def patient_messages(request: StaffRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    page = Paginator(selectors.messages_for_patient(patient=patient), 100).get_page(
        request.GET.get("page")
    )
    return render(
        request, "messaging/staff/patient_messages.html", {"patient": patient, "page": page}
    )


@allow(BOOKING)
def message_detail(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.message_get(pk=pk)
    except OutboxMessage.DoesNotExist:
        raise Http404("No such message.") from None
    subject, text = "", ""
    # A staff alert names the patient beside a severe reaction: not for the front desk.
    if message.kind not in STAFF_KINDS or can_see_clinical(request.user):
        subject, text = message_preview(message, clinic=clinic_get())
    return render(
        request,
        "messaging/staff/message_detail.html",
        {"message": message, "preview_subject": subject, "preview_text": text},
    )


@allow(BOOKING)
@require_POST
def message_retry(request: StaffRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        outbox_message_retry(message=message, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, "The message will be sent again within a few minutes.")
    # `next` comes back from the page's own form; anything else (another site, a URL name that
    # redirect() would resolve) falls back to the outbox rather than being followed.
    back = request.POST.get("next", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("messaging:outbox")
    return redirect(back)
