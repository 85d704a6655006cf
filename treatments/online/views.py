"""The public booking page, the emailed link, and the desk's list of requests to approve."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow, public
from mesoclinic.errors import DomainError
from mesoclinic.ratelimit import public_form_over_limits, rate_limited_per_ip, too_many
from treatments.models import OnlineBooking
from treatments.selectors import clinic_get

from . import selectors, services
from .forms import ChooseForm, IdentifyForm


def _choose(request: HttpRequest) -> tuple[ChooseForm, list[selectors.FreeSlot]]:
    source = request.GET if "session_type" in request.GET else None
    form = ChooseForm(
        source,
        types=selectors.online_session_types(),
        staff=selectors.staff_bookable_online(),
    )
    slots = []
    if form.is_valid():
        data = form.cleaned_data
        slots = selectors.free_slots(
            session_type=data["session_type"],
            day=data["day"],
            zone=clinic_get().zone,
            practitioner_id=data["practitioner"].pk if data["practitioner"] else None,
        )
    return form, slots


@public
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    clinic = clinic_get()
    if clinic.online_booking == OnlineBooking.OFF:
        return render(request, "online/closed.html", {"clinic": clinic})
    choose, slots = _choose(request)
    identify = IdentifyForm(request.POST or None, initial={"is_new": "0"})
    if request.method == "POST" and choose.is_valid() and identify.is_valid():
        data = identify.cleaned_data
        wait = public_form_over_limits(request, data["email"])
        if wait:
            return too_many(request, wait)
        try:
            services.online_request_create(
                session_type=choose.cleaned_data["session_type"],
                practitioner=choose.cleaned_data["practitioner"],
                starts_at=data["slot"],
                applicant=services.Applicant(**{k: v for k, v in data.items() if k != "slot"}),
            )
            return redirect("online:check_email")
        except DomainError as err:
            identify.add_error(None, err.message)
    context = {"clinic": clinic, "choose": choose, "slots": slots, "identify": identify}
    return render(request, "online/book.html", context)


@public
def check_email(request: HttpRequest) -> HttpResponse:
    return render(request, "online/check_email.html", {"clinic": clinic_get()})


@public
@rate_limited_per_ip
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners open links, and must not book anything.
    if request.method == "GET":
        booking_request = services.online_request_for_link(token=token)
        if booking_request is None:
            result = services.Confirmation(outcome=services.Outcome.INVALID)
            return render(request, "online/outcome.html", {"result": result}, status=400)
        clinic = clinic_get()
        # What the click confirms, as the person chose it on the page: never anything from a
        # patient's record (the page must look the same whether or not the email is a patient's).
        context = {
            "clinic": clinic,
            "token": token,
            "session_type": booking_request.session_type.name,
            "practitioner": (
                booking_request.practitioner.display_name
                if booking_request.practitioner is not None
                else ""
            ),
            "starts": booking_request.starts_at.astimezone(clinic.zone),
            "request_mode": clinic.online_booking == OnlineBooking.REQUEST,
        }
        return render(request, "online/verify.html", context)
    result = services.online_request_confirm(token=token)
    status = {services.Outcome.TAKEN: 409, services.Outcome.INVALID: 400}.get(result.outcome, 200)
    clinic = clinic_get()
    context = {"clinic": clinic, "result": result, "zone": clinic.zone}
    return render(request, "online/outcome.html", context, status=status)


@allow(BOOKING)
def requests(request: StaffRequest) -> HttpResponse:
    waiting = selectors.online_requests_waiting()
    return render(request, "online/requests.html", {"requests": waiting})


@allow(BOOKING)
@require_POST
def request_decide(request: StaffRequest, pk: int) -> HttpResponse:
    booking_request = selectors.online_request_get(pk=pk)
    if booking_request is None:
        raise Http404
    approve = request.POST.get("decision") == "approve"
    try:
        services.online_request_decide(request=booking_request, approve=approve, by=request.user)
        messages.success(request, "Booked; the patient is told." if approve else "Declined.")
    except DomainError as err:
        messages.error(request, err.message)
    return redirect("online:requests")
