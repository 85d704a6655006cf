"""Booking, moving, cancelling a session and the day-of-session status changes.

Each view parses its form and calls one booking service; a DomainError goes back on the form
next to the field it names, keeping what the desk typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow
from mesoclinic.errors import DomainError, put_on_form

from ..calendar.links import session_calendar_url
from ..courses.forms import StepChoiceQueryForm
from ..courses.selectors import booking_step_context, course_label_for_session
from ..courses.services import session_book_at_desk
from ..forms.booking import SessionBookForm, SessionCancelForm, SessionMoveForm, SessionStatusForm
from ..messaging.selectors import session_confirmation
from ..models import Session
from ..selectors import clinic_zone
from ..services import booking

# What a calendar slot (or a patient page) may prefill on the booking form.
PREFILL = ("patient", "practitioner", "room", "date", "time", "session_type")

STATUS_CHANGES: dict[str, tuple[Callable[..., Session], str]] = {
    "arrived": (booking.session_mark_arrived, "{patient} is checked in."),
    "completed": (booking.session_complete, "The session for {patient} is completed."),
    "no_show": (booking.session_mark_no_show, "{patient} did not come; the slot is free again."),
}


def _session_or_404(pk: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related(
            "patient", "session_type", "practitioner__user", "room", "booked_by"
        ),
        pk=pk,
    )


def _when(session: Session) -> str:
    local = timezone.localtime(session.starts_at)
    return f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M}"


def _detail(request: StaffRequest, session: Session, **forms_: forms.Form) -> HttpResponse:
    context: dict[str, Any] = {
        "session": session,
        "cancel_form": SessionCancelForm(),
        "status_form": SessionStatusForm(),
        "is_today": timezone.localtime(session.starts_at).date() == timezone.localdate(),
        "has_started": session.starts_at <= timezone.now(),
        "patient_confirmation": session_confirmation(session=session),
        "course_label": course_label_for_session(session=session),
        **forms_,
    }
    return render(request, "treatments/session_detail.html", context)


def _step_choice(request: StaffRequest, form: SessionBookForm) -> dict[str, Any]:
    if form.is_bound:
        data = getattr(form, "cleaned_data", {})
        return {
            **booking_step_context(
                patient=data.get("patient"),
                session_type_id=getattr(data.get("session_type"), "pk", None),
                day=data.get("date"),
                keep=form.data.get("course_step", ""),
            ),
            "step_errors": form.errors.get("course_step", []),
        }
    query = StepChoiceQueryForm(request.GET)
    query.is_valid()
    return booking_step_context(
        patient=form.chosen_patient(),
        session_type_id=query.cleaned_data.get("session_type"),
        day=query.cleaned_data.get("date"),
        keep=None,
    )


@allow(BOOKING)
def session_create(request: StaffRequest) -> HttpResponse:
    zone = clinic_zone()
    if request.method != "POST":
        initial = {key: request.GET[key] for key in PREFILL if request.GET.get(key)}
        form = SessionBookForm(initial={**initial, "shown_at": timezone.now()}, zone=zone)
    else:
        form = SessionBookForm(request.POST, zone=zone)
        if form.is_valid():
            try:
                data = form.cleaned_data
                made = session_book_at_desk(
                    patient=data["patient"],
                    session_type=data["session_type"],
                    practitioner=data["practitioner"],
                    room=data["room"],
                    starts_at=data["starts_at"],
                    notes=data["notes"],
                    course_step=data["course_step"],
                    by=request.user,
                    shown_at=data["shown_at"],
                )
            except DomainError as err:
                put_on_form(form, err)
            else:
                session = made.session
                messages.success(
                    request,
                    f"Booked {session.session_type} for {session.patient} on {_when(session)} "
                    f"with {session.practitioner} in {session.room}.{made.counted}",
                )
                if made.warning:
                    messages.warning(request, made.warning)
                return redirect(session_calendar_url(session))
    context = {"form": form, "mode": "book", **_step_choice(request, form)}
    return render(request, "treatments/session_form.html", context)


@allow(BOOKING)
def session_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return _detail(request, _session_or_404(pk))


@allow(BOOKING)
def session_reschedule(request: StaffRequest, pk: int) -> HttpResponse:
    session = _session_or_404(pk)
    zone = clinic_zone()
    if request.method != "POST":
        local = timezone.localtime(session.starts_at, zone)
        initial = {
            "date": local.date(),
            "time": local.time(),
            "practitioner": session.practitioner_id,
            "room": session.room_id,
            "shown_at": timezone.now(),
        }
        form = SessionMoveForm(initial=initial, zone=zone)
    else:
        form = SessionMoveForm(request.POST, zone=zone)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moved = booking.session_reschedule(
                    session=session,
                    starts_at=data["starts_at"],
                    practitioner=data["practitioner"],
                    room=data["room"],
                    by=request.user,
                    shown_at=data["shown_at"],
                )
            except DomainError as err:
                put_on_form(form, err)
            else:
                messages.success(
                    request,
                    f"Moved {moved.patient}'s session to {_when(moved)} "
                    f"with {moved.practitioner} in {moved.room}.",
                )
                return redirect(session_calendar_url(moved))
    context = {"form": form, "mode": "move", "session": session}
    return render(request, "treatments/session_form.html", context)


@allow(BOOKING)
def session_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    session = _session_or_404(pk)
    form = SessionCancelForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            booking.session_cancel(
                session=session, reason=form.cleaned_data["reason"], by=request.user
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Cancelled {session.patient}'s session on {_when(session)}.")
            return redirect(session_calendar_url(session))
    return render(request, "treatments/session_cancel.html", {"session": session, "form": form})


@allow(BOOKING)
@require_POST
def session_status(request: StaffRequest, pk: int) -> HttpResponse:
    session = _session_or_404(pk)
    form = SessionStatusForm(request.POST)
    if form.is_valid():
        change, done = STATUS_CHANGES[form.cleaned_data["action"]]
        try:
            change(session=session, by=request.user)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, done.format(patient=session.patient))
            return redirect("treatments:session_detail", pk=session.pk)
    return _detail(request, session, status_form=form)
