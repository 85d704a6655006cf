"""Booking, moving, cancelling a session and the day-of-session status changes.

Each view parses its form and calls one booking service; a DomainError goes back on the form
next to the field it names, keeping what the desk typed.
"""

from __future__ import annotations

import datetime as dt
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
from ..clinic_time import combine
from ..clinical.selectors import patient_flags
from ..courses.forms import StepChoiceQueryForm
from ..courses.selectors import booking_step_context, course_label_for_session
from ..courses.services import session_book_at_desk
from ..forms.booking import (
    OfferedSlotsQueryForm,
    SessionBookForm,
    SessionCancelForm,
    SessionMoveForm,
    SessionStatusForm,
)
from ..messaging.desk_notices import patient_cancellation_for
from ..messaging.selectors import session_confirmation
from ..models import Session
from ..rebook import book_next_url, free_starts, slot_url
from ..selectors import clinic_zone
from ..services import booking, status
from ..status_rules import NO_SHOW, session_actions, started_refusal

# What a calendar slot (or a patient page) may prefill on the booking form.
PREFILL = ("patient", "practitioner", "room", "date", "time", "session_type")

STATUS_DONE = {
    "arrived": "{patient} is checked in.",
    "completed": "The session for {patient} is completed.",
    "no_show": "{patient} did not come; the slot is free again.",
    "undo_arrived": "{patient}'s check-in is undone; the session is booked again.",
    "undo_no_show": "{patient}'s no-show is undone; the session is booked again.",
}
FLAGGED = " The clinical record is not signed: {practitioner} sees it flagged on their today list."


def _status_change(request: StaffRequest, action: str, session: Session, confirmed: bool) -> str:
    """Make the change; return the message for the desk."""
    by = request.user
    done = STATUS_DONE[action].format(patient=session.patient)
    if action == "arrived":
        booking.session_mark_arrived(session=session, by=by)
    elif action == "completed":
        made = status.session_complete_at_desk(session=session, by=by, unsigned_confirmed=confirmed)
        if made.flagged:
            done += FLAGGED.format(practitioner=session.practitioner)
    elif action == "no_show":
        booking.session_mark_no_show(session=session, by=by)
    elif action == "undo_arrived":
        status.session_check_in_undo(session=session, by=by)
    else:
        status.session_no_show_undo(session=session, by=by)
    return done


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
    actions = session_actions(session=session, now=timezone.now(), zone=clinic_zone())
    context: dict[str, Any] = {
        "session": session,
        "cancel_form": SessionCancelForm(),
        "status_form": SessionStatusForm(),
        "is_today": timezone.localtime(session.starts_at).date() == timezone.localdate(),
        "has_started": session.starts_at <= timezone.now(),
        "patient_confirmation": session_confirmation(session=session),
        "patient_cancellation": patient_cancellation_for(session=session)
        if session.status == Session.Status.CANCELLED
        else None,
        # Labels only ("see practitioner", "screening due"...): never why.
        "flags": patient_flags(patient=session.patient),
        "course_label": course_label_for_session(session=session),
        "actions": actions,
        "waiting": [action for action in actions if not action.available],
        "book_next_url": book_next_url(
            patient_id=session.patient_id,
            session_type_id=session.session_type_id,
            practitioner_id=session.practitioner_id,
            room_id=session.room_id,
        ),
        **forms_,
    }
    return render(request, "treatments/session_detail.html", context)


def _offered(request: StaffRequest, form: SessionBookForm) -> list[dict[str, Any]]:
    """The nearest free starts for the prefilled patient, session type and practitioner, each a
    link to this form with it filled in: clicking one, then "Book session", books it."""
    query = OfferedSlotsQueryForm(request.GET)
    patient = form.chosen_patient()
    if form.is_bound or patient is None or not query.is_valid():
        return []
    data, zone, now = query.cleaned_data, clinic_zone(), timezone.now()
    # Offered from the day asked for (a course step's window), kept when one time is chosen.
    origin = data["slots_from"] or (data["date"] if not request.GET.get("time") else None)
    after = combine(origin, dt.time(0), zone) if origin else now
    starts = free_starts(
        session_type=data["session_type"],
        practitioner=data["practitioner"],
        patient_id=patient.pk,
        room=data["room"],
        after=after,
        now=now,
        zone=zone,
    )
    base: dict[str, object] = {
        key: request.GET[key] for key in ("patient", "session_type", "practitioner")
    }
    if origin:
        base["slots_from"] = origin.isoformat()
    chosen = (request.GET.get("date"), request.GET.get("time"))
    return [
        {
            "start": start,
            "url": slot_url(base=base, start=start, zone=zone),
            "chosen": chosen
            == (
                f"{start.starts_at.astimezone(zone):%Y-%m-%d}",
                f"{start.starts_at.astimezone(zone):%H:%M}",
            ),
        }
        for start in starts
    ]


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
    context = {
        "form": form,
        "mode": "book",
        "offered": _offered(request, form),
        **_step_choice(request, form),
    }
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
    """A status change; a no-show, or completing without a signed record, is confirmed first on
    a page of its own (a second POST with confirm=on), never by script alone."""
    session = _session_or_404(pk)
    form = SessionStatusForm(request.POST)
    if form.is_valid():
        action, confirmed = form.cleaned_data["action"], form.cleaned_data["confirm"]
        now, zone = timezone.now(), clinic_zone()
        if action == NO_SHOW and not confirmed and not started_refusal(session, now=now, zone=zone):
            question = f"Mark {session.patient} as not come? Their slot becomes free for booking."
            return _confirm(request, session, action, question)
        try:
            done = _status_change(request, action, session, confirmed)
        except status.RecordNotSigned as err:
            return _confirm(request, session, action, err.message)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, done)
            return redirect("treatments:session_detail", pk=session.pk)
    return _detail(request, session, status_form=form)


def _confirm(request: StaffRequest, session: Session, action: str, question: str) -> HttpResponse:
    context = {"session": session, "action": action, "question": question}
    return render(request, "treatments/session_status_confirm.html", context)
