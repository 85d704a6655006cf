"""Clinic set-up screens for the clinic manager: details, hours, rooms, session types, staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from mesoclinic.access import MANAGEMENT, Role, StaffRequest, allow
from mesoclinic.confirm import ConfirmForm
from mesoclinic.errors import DomainError, put_on_form

from ..forms.setup import (
    ClinicForm,
    OpeningHoursForm,
    RoomForm,
    SessionTypeForm,
    StaffCreateForm,
    StaffEditForm,
    WorkingExceptionForm,
    WorkingHoursForm,
)
from ..models import StaffProfile
from ..selectors import (
    booked_outside_hours,
    clinic_get,
    clinic_zone,
    future_booked_count,
    opening_hours_list,
    room_get,
    rooms_count,
    rooms_list,
    session_type_get,
    session_types_count,
    session_types_list,
    sessions_held,
    staff_count,
    staff_get,
    staff_list,
    staff_role,
    working_exception_get,
    working_exceptions_from,
    working_hours_list,
)
from ..services import setup as svc
from ..services import staff as staff_svc

T = TypeVar("T")


def _or_404(find: Callable[..., T], **lookup: int) -> T:
    """A selector's lookup by id; a row that does not exist is a 404 page."""
    try:
        return find(**lookup)
    except ObjectDoesNotExist:
        raise Http404("Not found.") from None


def _attempt(form: forms.Form, action: Callable[[], T]) -> T | None:
    """Run a service; a DomainError goes on the form beside its field, never a 500."""
    try:
        return action()
    except DomainError as err:
        put_on_form(form, err)
        return None


def _confirm_page(request: StaffRequest, form: ConfirmForm, **ctx: Any) -> HttpResponse:
    """What deactivating will do, with a fresh token; also the answer to an unconfirmed POST."""
    return render(
        request,
        "treatments/setup/confirm_deactivate.html",
        {"token": form.fresh_token(), "unconfirmed": form.is_bound, **ctx},
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _outside_hours_warning(request: StaffRequest, count: int) -> None:
    if count:
        messages.warning(
            request,
            f"{_plural(count, 'booked session')} now fall outside the bookable hours. They stay "
            "booked: move them in the calendar if needed.",
        )


def _form_page(request: StaffRequest, form: forms.Form, **context: Any) -> HttpResponse:
    return render(request, "treatments/setup/form.html", {"form": form, **context})


@allow(MANAGEMENT)
def setup(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "treatments/setup/index.html",
        {
            "clinic": clinic_get(),
            "opening_hours": opening_hours_list(),
            "rooms": rooms_count(),
            "session_types": session_types_count(),
            "staff": staff_count(),
        },
    )


@allow(MANAGEMENT)
def setup_clinic(request: StaffRequest) -> HttpResponse:
    clinic = clinic_get()
    fields = (
        "name",
        "timezone",
        "address",
        "phone",
        "email",
        "front_desk_second_factor",
        "online_booking",
    )
    initial = {f: getattr(clinic, f) for f in fields}
    form = ClinicForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        updated = _attempt(
            form,
            lambda: svc.clinic_update(
                name=data["name"],
                timezone_name=data["timezone"],
                address=data["address"],
                phone=data["phone"],
                email=data["email"],
                front_desk_second_factor=data["front_desk_second_factor"],
                online_booking=data["online_booking"] or None,
            ),
        )
        if updated:
            messages.success(request, "Clinic details saved.")
            if updated.timezone != initial["timezone"]:
                messages.warning(
                    request,
                    f"Time zone changed from {initial['timezone']} to {updated.timezone}. Booked "
                    "sessions keep their moment in time, so their times on screen have moved: "
                    "check the calendar.",
                )
            return redirect("treatments:setup")
    return _form_page(request, form, title="Clinic details", submit="Save details")


@allow(MANAGEMENT)
def setup_opening_hours(request: StaffRequest) -> HttpResponse:
    form = OpeningHoursForm(request.POST or None, rows=opening_hours_list())
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["hours"]
        if _attempt(form, lambda: svc.opening_hours_set(hours=hours)) is not None:
            messages.success(request, "Opening hours saved.")
            _outside_hours_warning(request, booked_outside_hours())
            return redirect("treatments:setup")
    return render(
        request,
        "treatments/setup/weekly_hours.html",
        {"form": form, "title": "Opening hours", "back": "treatments:setup"},
    )


@allow(MANAGEMENT)
def setup_rooms(request: StaffRequest) -> HttpResponse:
    return render(request, "treatments/setup/rooms.html", {"rooms": rooms_list()})


@allow(MANAGEMENT)
def setup_room_create(request: StaffRequest) -> HttpResponse:
    form = RoomForm(request.POST or None)
    form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        room = _attempt(form, lambda: svc.room_create(name=form.cleaned_data["name"]))
        if room:
            messages.success(request, f"Room “{room}” added.")
            return redirect("treatments:setup_rooms")
    return _form_page(request, form, title="Add a room", submit="Add room", back="setup_rooms")


@allow(MANAGEMENT)
def setup_room_edit(request: StaffRequest, pk: int) -> HttpResponse:
    room = _or_404(room_get, pk=pk)
    form = RoomForm(request.POST or None, initial={"name": room.name, "active": room.active})
    if room.active:
        # Taking a room out of use goes through its confirmation page (setup_room_deactivate).
        form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        active = data.get("active", room.active)
        if _attempt(form, lambda: svc.room_update(room=room, name=data["name"], active=active)):
            messages.success(request, "Room saved.")
            return redirect("treatments:setup_rooms")
    return _form_page(request, form, title=f"Edit {room}", submit="Save", back="setup_rooms")


@allow(MANAGEMENT)
@require_http_methods(["GET", "POST"])
def setup_room_deactivate(request: StaffRequest, pk: int) -> HttpResponse:
    room = _or_404(room_get, pk=pk)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        action="room_deactivate",
        object_id=room.pk,
        user_id=request.user.pk,
    )
    if request.method == "POST" and form.is_valid():
        try:
            svc.room_deactivate(room=room)
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, f"“{room}” is out of use; its past sessions are kept.")
        return redirect("treatments:setup_rooms")
    return _confirm_page(request, form, room=room, held=sessions_held(room=room))


@allow(MANAGEMENT)
def setup_session_types(request: StaffRequest) -> HttpResponse:
    types = session_types_list()
    return render(request, "treatments/setup/session_types.html", {"session_types": types})


@allow(MANAGEMENT)
def setup_session_type_create(request: StaffRequest) -> HttpResponse:
    form = SessionTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = _attempt(form, lambda: svc.session_type_create(**form.cleaned_data))
        if created:
            messages.success(request, f"Session type “{created}” added.")
            return redirect("treatments:setup_session_types")
    return _form_page(
        request, form, title="Add a session type", submit="Add", back="setup_session_types"
    )


@allow(MANAGEMENT)
def setup_session_type_edit(request: StaffRequest, pk: int) -> HttpResponse:
    session_type = _or_404(session_type_get, pk=pk)
    fields = (
        "name",
        "duration_minutes",
        "buffer_minutes",
        "medical_only",
        "active",
        "bookable_online",
        "new_patients_online",
    )
    initial = {f: getattr(session_type, f) for f in fields}
    form = SessionTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _attempt(form, lambda: svc.session_type_update(session_type=session_type, **data)):
            messages.success(request, f"Session type “{data['name']}” saved.")
            length_changed = any(
                data[f] != initial[f] for f in ("duration_minutes", "buffer_minutes")
            )
            booked = future_booked_count(session_type=session_type)
            if length_changed and booked:
                messages.info(
                    request,
                    f"{_plural(booked, 'booked session')} of this type keep the length they were "
                    "booked with; new bookings use the new length.",
                )
            return redirect("treatments:setup_session_types")
    return _form_page(
        request,
        form,
        title=f"Edit {session_type}",
        submit="Save",
        back="setup_session_types",
        note="Changing the duration or buffer does not move sessions already booked.",
    )


@allow(MANAGEMENT)
def setup_staff(request: StaffRequest) -> HttpResponse:
    return render(request, "treatments/setup/staff_list.html", {"staff": staff_list()})


def _details(data: dict[str, Any]) -> staff_svc.StaffDetails:
    fields = staff_svc.StaffDetails.__dataclass_fields__
    return staff_svc.StaffDetails(**{name: data[name] for name in fields})


@allow(MANAGEMENT)
def setup_staff_create(request: StaffRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None, initial={"role": Role.PRACTITIONER.value})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        staff = _attempt(
            form,
            lambda: staff_svc.staff_create(
                username=data["username"],
                password=data["password"],
                details=_details(data),
                by=request.user,
            ),
        )
        if staff:
            messages.success(request, f"{staff} can now log in as “{staff.user.username}”.")
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _form_page(request, form, title="Add a staff member", submit="Add", back="setup_staff")


@allow(MANAGEMENT)
def setup_staff_edit(request: StaffRequest, pk: int) -> HttpResponse:
    staff = _or_404(staff_get, pk=pk)
    role = staff_role(staff=staff)
    initial = {
        "first_name": staff.user.first_name,
        "last_name": staff.user.last_name,
        "email": staff.user.email,
        "role": role or Role.FRONT_DESK.value,
        "qualification": staff.qualification,
        "registration_body": staff.registration_body,
        "registration_number": staff.registration_number,
        "bookable": staff.bookable,
    }
    form = StaffEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = _attempt(
            form,
            lambda: staff_svc.staff_update(
                staff=staff,
                details=_details(data),
                password=data["password"],
                by=request.user,
            ),
        )
        if saved:
            messages.success(request, f"{saved} saved.")
            return redirect("treatments:setup_staff")
    return _form_page(
        request, form, title=f"Edit {staff}", submit="Save", back="setup_staff", staff=staff
    )


@allow(MANAGEMENT)
@require_http_methods(["GET", "POST"])
def setup_staff_deactivate(request: StaffRequest, pk: int) -> HttpResponse:
    staff = _or_404(staff_get, pk=pk)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        action="staff_deactivate",
        object_id=staff.pk,
        user_id=request.user.pk,
    )
    if request.method == "POST" and form.is_valid():
        try:
            staff_svc.staff_deactivate(staff=staff, by=request.user)
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, f"{staff} can no longer log in or be booked.")
        return redirect("treatments:setup_staff")
    return _confirm_page(request, form, staff=staff, held=sessions_held(practitioner=staff))


@allow(MANAGEMENT)
@require_POST
def setup_staff_reactivate(request: StaffRequest, pk: int) -> HttpResponse:
    staff = _or_404(staff_get, pk=pk)
    staff_svc.staff_reactivate(staff=staff, by=request.user)
    messages.success(request, f"{staff} can log in again.")
    return redirect("treatments:setup_staff")


def _hours_page(
    request: StaffRequest,
    staff: StaffProfile,
    hours_form: WorkingHoursForm | None = None,
    exception_form: WorkingExceptionForm | None = None,
) -> HttpResponse:
    today = timezone.now().astimezone(clinic_zone()).date()
    return render(
        request,
        "treatments/setup/staff_hours.html",
        {
            "staff": staff,
            "form": hours_form or WorkingHoursForm(rows=working_hours_list(staff=staff)),
            "exception_form": exception_form or WorkingExceptionForm(initial={"date": today}),
            "exceptions": working_exceptions_from(staff=staff, day=today),
            "opening_hours": opening_hours_list(),
        },
    )


@allow(MANAGEMENT)
def setup_staff_hours(request: StaffRequest, pk: int) -> HttpResponse:
    staff = _or_404(staff_get, pk=pk)
    form = WorkingHoursForm(request.POST or None, rows=working_hours_list(staff=staff))
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["hours"]
        saved = _attempt(form, lambda: staff_svc.working_hours_set(staff=staff, hours=hours))
        if saved is not None:
            messages.success(request, f"Weekly hours for {staff} saved.")
            _outside_hours_warning(request, booked_outside_hours(staff_ids=[staff.pk]))
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _hours_page(request, staff, hours_form=form)


@allow(MANAGEMENT)
@require_POST
def setup_exception_add(request: StaffRequest, pk: int) -> HttpResponse:
    staff = _or_404(staff_get, pk=pk)
    form = WorkingExceptionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        added = _attempt(
            form,
            lambda: staff_svc.working_exception_add(
                staff=staff,
                day=data["date"],
                kind=data["kind"],
                starts=data["starts"],
                ends=data["ends"],
                note=data["note"],
            ),
        )
        if added:
            messages.success(request, f"{added.get_kind_display()} on {added.date:%a %d %b} added.")
            _outside_hours_warning(request, booked_outside_hours(staff_ids=[staff.pk]))
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _hours_page(request, staff, exception_form=form)


@allow(MANAGEMENT)
@require_POST
def setup_exception_delete(request: StaffRequest, pk: int, exception_pk: int) -> HttpResponse:
    exception = _or_404(working_exception_get, pk=exception_pk, staff_id=pk)
    staff_svc.working_exception_remove(exception=exception)
    messages.success(request, "Exception removed.")
    return redirect("treatments:setup_staff_hours", pk=pk)
