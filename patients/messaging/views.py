"""Staff pages for the outbox, and the pages behind the patients' signed email links."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mesoclinic.access import BOOKING, allow, public
from mesoclinic.errors import DomainError
from patients.models import Patient
from treatments.models import Session
from treatments.selectors import clinic_get

from . import links, selectors, services
from .links import LinkError
from .models import OutboxMessage, Status
from .render import message_preview

# ---- Staff -------------------------------------------------------------------------------------


@allow(BOOKING)
def outbox(request: HttpRequest) -> HttpResponse:
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
def patient_messages(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    page = Paginator(selectors.messages_for_patient(patient=patient), 100).get_page(
        request.GET.get("page")
    )
    return render(
        request, "messaging/staff/patient_messages.html", {"patient": patient, "page": page}
    )


@allow(BOOKING)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.message_get(pk=pk)
    except OutboxMessage.DoesNotExist:
        raise Http404("No such message.") from None
    subject, text = message_preview(message, clinic=clinic_get())
    return render(
        request,
        "messaging/staff/message_detail.html",
        {"message": message, "preview_subject": subject, "preview_text": text},
    )


@allow(BOOKING)
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.message_retry(message=message, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, "The message will be sent at the next dispatcher run.")
    return redirect(request.POST.get("next") or "messaging:outbox")


# ---- Patients' signed links ---------------------------------------------------------------------


def _link_error(request: HttpRequest, err: LinkError) -> HttpResponse:
    return render(
        request,
        "messaging/links/error.html",
        {"title": err.title, "text": err.message, "clinic": clinic_get()},
        status=err.status,
    )


def _done(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    return render(
        request,
        "messaging/links/done.html",
        {"title": title, "text": text, "clinic": clinic_get()},
        status=status,
    )


def _session_for(action: str, token: str) -> Session:
    payload = links.link_read(action=action, token=token)
    session = selectors.session_for_link(pk=payload.get("s"))
    if session is None:
        raise links.LinkInvalid()
    return session


@public
@require_http_methods(["GET", "POST"])
def link_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = _session_for("confirm", token)
        if request.method == "POST":
            services.link_session_confirm(token=token)
            return _done(request, "Thank you", "Your appointment is confirmed. See you then.")
    except LinkError as err:
        return _link_error(request, err)
    except DomainError as err:
        return _done(request, "Nothing to confirm", err.message, status=409)
    return render(
        request, "messaging/links/confirm.html", {"session": session, "clinic": clinic_get()}
    )


@public
@require_http_methods(["GET", "POST"])
def link_cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = _session_for("cancel", token)
        if request.method == "POST":
            services.link_session_cancel(token=token)
            return _done(request, "Appointment cancelled", "Your appointment is cancelled.")
    except LinkError as err:
        return _link_error(request, err)
    except DomainError as err:
        return _done(request, "The appointment was not cancelled", err.message, status=409)
    blocked = services.cancel_blocked_reason(session)
    return render(
        request,
        "messaging/links/cancel.html",
        {"session": session, "blocked": blocked, "clinic": clinic_get()},
    )


@public
@require_http_methods(["GET", "POST"])
def link_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        links.link_read(action="unsubscribe", token=token)
        if request.method == "POST":
            services.link_unsubscribe(token=token)
            return _done(
                request,
                "You will not receive these emails any more",
                "We will not send you reminders to book your next session. Your appointment "
                "and aftercare emails continue; to change that, please call the clinic.",
            )
    except LinkError as err:
        return _link_error(request, err)
    return render(request, "messaging/links/unsubscribe.html", {"clinic": clinic_get()})


@public
@require_http_methods(["GET", "POST"])
def link_reaction(request: HttpRequest, token: str) -> HttpResponse:
    from .patient_links import reaction_view

    return reaction_view(request, token)


@public
@require_http_methods(["GET", "POST"])
def link_book(request: HttpRequest, token: str) -> HttpResponse:
    from .patient_links import book_view

    return book_view(request, token)
