"""The desk's waiting list, the offer page behind the emailed link, and the booking page's
"join the waiting list"."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mesoclinic.access import BOOKING, MANAGEMENT, StaffRequest, allow, public
from mesoclinic.errors import DomainError
from mesoclinic.ratelimit import public_form_over_limits, rate_limited_per_ip, too_many
from patients.models import Patient
from patients.selectors import patients_search
from treatments.courses.models import Course
from treatments.models import OnlineBooking
from treatments.online.selectors import online_session_types, staff_bookable_online
from treatments.selectors import clinic_get, session_types_active, staff_bookable

from . import selectors, services
from .forms import DeskEntryForm, JoinForm, SettingsForm

OFFER_STATUS = {
    services.Outcome.TAKEN: 409,
    services.Outcome.INVALID: 400,
    services.Outcome.CLOSED: 410,
}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _wish(data: dict) -> services.Wish:
    return services.Wish(
        **{k: data[k] for k in ("session_type", "practitioner", "earliest", "latest")},
        mornings=data["mornings"],
        afternoons=data["afternoons"],
        evenings=data["evenings"],
    )


@allow(BOOKING)
def entry_list(request: StaffRequest) -> HttpResponse:
    status = request.GET.get("status", "active")
    entries = selectors.entries_list(
        status=status,
        session_type_id=_int(request.GET.get("session_type")),
        practitioner_id=_int(request.GET.get("practitioner")),
    )
    context = {
        "entries": entries,
        "status": status if status in selectors.LIST_STATUSES else "active",
        "session_types": session_types_active(),
        "staff": staff_bookable().order_by("user__first_name", "user__last_name"),
        "chosen_type": _int(request.GET.get("session_type")),
        "chosen_practitioner": _int(request.GET.get("practitioner")),
        "settings": selectors.waitlist_settings(),
    }
    return render(request, "waitlist/entry_list.html", context)


@allow(BOOKING)
@require_http_methods(["GET", "POST"])
def entry_add(request: StaffRequest) -> HttpResponse:
    patient_pk, course_pk = _int(request.GET.get("patient")), _int(request.GET.get("course"))
    patient = Patient.objects.filter(pk=patient_pk).first() if patient_pk else None
    course = (
        Course.objects.filter(pk=course_pk, patient=patient).first()
        if course_pk and patient
        else None
    )
    step = _int(request.GET.get("step"))
    initial: dict[str, object] = {"patient": patient.pk if patient else None}
    if course is not None:
        initial.update(session_type=course.session_type_id, practitioner=course.practitioner_id)
        initial.update(selectors.course_step_dates(course=course, step_number=step))
    form = DeskEntryForm(
        request.POST or None,
        initial=initial,
        types=session_types_active(),
        staff=staff_bookable().order_by("user__first_name", "user__last_name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.entry_add(
                patient=data["patient"],
                wish=_wish(data),
                course=course,
                step_number=step,
                note=data["note"],
                by=request.user,
            )
            messages.success(request, f"{entry.patient} is on the waiting list.")
            return redirect("waitlist:entry_detail", pk=entry.pk)
        except DomainError as err:
            form.add_error(err.field if err.field in form.fields else None, err.message)
    query = request.GET.get("q", "").strip()
    found = patients_search(query=query, limit=20) if query and patient is None else []
    context = {"form": form, "patient": patient, "course": course, "step": step, "q": query}
    return render(request, "waitlist/entry_add.html", {**context, "found": found})


@allow(BOOKING)
def entry_detail(request: StaffRequest, pk: int) -> HttpResponse:
    entry = selectors.entry_get(pk=pk)
    if entry is None:
        raise Http404
    offers = selectors.entry_offers(entry=entry)
    return render(request, "waitlist/entry_detail.html", {"entry": entry, "offers": offers})


@allow(BOOKING)
@require_POST
def entry_withdraw(request: StaffRequest, pk: int) -> HttpResponse:
    entry = selectors.entry_get(pk=pk)
    if entry is None:
        raise Http404
    try:
        services.entry_withdraw(entry=entry, by=request.user)
        messages.success(request, "Taken off the waiting list; open offers are withdrawn.")
    except DomainError as err:
        messages.error(request, err.message)
    return redirect("waitlist:entry_detail", pk=pk)


@allow(MANAGEMENT)
@require_http_methods(["GET", "POST"])
def waitlist_settings(request: StaffRequest) -> HttpResponse:
    current = selectors.waitlist_settings()
    form = SettingsForm(
        request.POST or None,
        initial={
            "batch_size": current.batch_size,
            "offer_minutes": current.offer_minutes,
            "notice_minutes": current.notice_minutes,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.settings_update(**form.cleaned_data)
        messages.success(request, "Waiting-list settings saved.")
        return redirect("waitlist:entry_list")
    return render(request, "waitlist/settings.html", {"form": form})


# --- public: the patient's pages ----------------------------------------------------------------


@public
@rate_limited_per_ip
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows the offer and its buttons: mail scanners open links.
    clinic = clinic_get()
    if request.method == "GET":
        found = services.offer_link_valid(token=token)
        if found is None:
            result = services.OfferResult(outcome=services.Outcome.INVALID)
            return render(request, "waitlist/offer_outcome.html", {"result": result}, status=400)
        if not selectors.offer_still_open(found):
            # Said at once, before any button: expired, withdrawn, or booked meanwhile.
            result = services.OfferResult(outcome=services.Outcome.CLOSED, offer=found)
            context = {"clinic": clinic, "result": result}
            return render(request, "waitlist/offer_outcome.html", context, status=410)
        context = {"clinic": clinic, "offer": found, "token": token}
        return render(request, "waitlist/offer.html", context)
    if request.POST.get("answer") == "decline":
        result = services.offer_decline(token=token)
    else:
        result = services.offer_accept(token=token)
    context = {"clinic": clinic, "result": result}
    status = OFFER_STATUS.get(result.outcome, 200)
    return render(request, "waitlist/offer_outcome.html", context, status=status)


@public
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    clinic = clinic_get()
    if clinic.online_booking == OnlineBooking.OFF:
        return render(request, "online/closed.html", {"clinic": clinic})
    form = JoinForm(
        request.POST or None,
        initial={
            "session_type": _int(request.GET.get("session_type")),
            "practitioner": _int(request.GET.get("practitioner")),
            "earliest": request.GET.get("day"),
        },
        types=online_session_types(),
        staff=staff_bookable_online(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wait = public_form_over_limits(request, data["email"])
        if wait:
            return too_many(request, wait)
        try:
            services.entry_request_online(
                wish=_wish(data), email=data["email"], date_of_birth=data["date_of_birth"]
            )
            return redirect("waitlist:check_email")
        except DomainError as err:
            form.add_error(err.field if err.field in form.fields else None, err.message)
    return render(request, "waitlist/join.html", {"clinic": clinic, "form": form})


@public
def check_email(request: HttpRequest) -> HttpResponse:
    return render(request, "waitlist/check_email.html", {"clinic": clinic_get()})


@public
@rate_limited_per_ip
@require_http_methods(["GET", "POST"])
def join_verify(request: HttpRequest, token: str) -> HttpResponse:
    clinic = clinic_get()
    if request.method == "GET":
        if not services.join_link_valid(token=token):
            result = services.OfferResult(outcome=services.Outcome.INVALID)
            return render(request, "waitlist/join_outcome.html", {"result": result}, status=400)
        return render(request, "waitlist/join_verify.html", {"clinic": clinic, "token": token})
    result = services.entry_join_confirm(token=token)
    status = 400 if result.outcome == services.Outcome.INVALID else 200
    context = {"clinic": clinic, "result": result}
    return render(request, "waitlist/join_outcome.html", context, status=status)
