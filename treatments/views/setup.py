"""Clinic set-up screens for the clinic manager: details, hours, rooms, session types, staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mesoclinic.access import MANAGEMENT, Role, StaffRequest, allow
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
from ..models import (
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
)
from ..selectors import clinic_get, clinic_zone
from ..services import setup as svc
from ..services import staff as staff_svc

T = TypeVar("T")


def _attempt(form: forms.Form, action: Callable[[], T]) -> T | None:
    """Run a service; a DomainError goes on the form beside its field, never a 500."""
    try:
        return action()
    except DomainError as err:
        put_on_form(form, err)
        return None


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
            "opening_hours": OpeningHours.objects.all(),
            "rooms": Room.objects.aggregate(total=Count("id"), active=Count("id", Q(active=True))),
            "session_types": SessionType.objects.aggregate(
                total=Count("id"), active=Count("id", Q(active=True))
            ),
            "staff": StaffProfile.objects.aggregate(
                total=Count("id", Q(user__is_active=True)),
                bookable=Count("id", Q(user__is_active=True, bookable=True)),
            ),
        },
    )


@allow(MANAGEMENT)
def setup_clinic(request: StaffRequest) -> HttpResponse:
    clinic = clinic_get()
    initial = {f: getattr(clinic, f) for f in ("name", "timezone", "address", "phone", "email")}
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
    form = OpeningHoursForm(request.POST or None, rows=OpeningHours.objects.all())
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["hours"]
        if _attempt(form, lambda: svc.opening_hours_set(hours=hours)) is not None:
            messages.success(request, "Opening hours saved.")
            _outside_hours_warning(request, svc.booked_outside_hours())
            return redirect("treatments:setup")
    return render(
        request,
        "treatments/setup/weekly_hours.html",
        {"form": form, "title": "Opening hours", "back": "treatments:setup"},
    )


@allow(MANAGEMENT)
def setup_rooms(request: StaffRequest) -> HttpResponse:
    rooms = Room.objects.annotate(
        booked=Count(
            "sessions",
            filter=Q(
                sessions__status=Session.Status.BOOKED, sessions__starts_at__gte=timezone.now()
            ),
        )
    ).order_by("-active", "name")
    return render(request, "treatments/setup/rooms.html", {"rooms": rooms})


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
    room = get_object_or_404(Room, pk=pk)
    form = RoomForm(request.POST or None, initial={"name": room.name, "active": room.active})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _attempt(form, lambda: svc.room_update(room=room, **data)):
            messages.success(request, "Room saved.")
            return redirect("treatments:setup_rooms")
    return _form_page(request, form, title=f"Edit {room}", submit="Save", back="setup_rooms")


@allow(MANAGEMENT)
@require_POST
def setup_room_deactivate(request: StaffRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=pk)
    try:
        svc.room_deactivate(room=room)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, f"“{room}” is out of use; its past sessions are kept.")
    return redirect("treatments:setup_rooms")


@allow(MANAGEMENT)
def setup_session_types(request: StaffRequest) -> HttpResponse:
    types = SessionType.objects.order_by("-active", "name")
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
    session_type = get_object_or_404(SessionType, pk=pk)
    fields = ("name", "duration_minutes", "buffer_minutes", "medical_only", "active")
    initial = {f: getattr(session_type, f) for f in fields}
    form = SessionTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _attempt(form, lambda: svc.session_type_update(session_type=session_type, **data)):
            messages.success(request, f"Session type “{data['name']}” saved.")
            length_changed = any(
                data[f] != initial[f] for f in ("duration_minutes", "buffer_minutes")
            )
            booked = svc.future_booked_count(session_type=session_type)
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
    role_names = [role.value for role in Role]
    staff = (
        StaffProfile.objects.select_related("user")
        .prefetch_related(
            Prefetch("user__groups", queryset=Group.objects.filter(name__in=role_names))
        )
        .annotate(
            booked=Count(
                "sessions",
                filter=Q(
                    sessions__status=Session.Status.BOOKED,
                    sessions__starts_at__gte=timezone.now(),
                ),
            )
        )
        .order_by("-user__is_active", "user__first_name", "user__last_name", "id")
    )
    return render(request, "treatments/setup/staff_list.html", {"staff": staff})


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
                username=data["username"], password=data["password"], details=_details(data)
            ),
        )
        if staff:
            messages.success(request, f"{staff} can now log in as “{staff.user.username}”.")
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _form_page(request, form, title="Add a staff member", submit="Add", back="setup_staff")


@allow(MANAGEMENT)
def setup_staff_edit(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
    role_names = [r.value for r in Role]
    role = staff.user.groups.filter(name__in=role_names).values_list("name", flat=True).first()
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
@require_POST
def setup_staff_deactivate(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
    try:
        staff_svc.staff_deactivate(staff=staff, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, f"{staff} can no longer log in or be booked.")
    return redirect("treatments:setup_staff")


@allow(MANAGEMENT)
@require_POST
def setup_staff_reactivate(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
    staff_svc.staff_reactivate(staff=staff)
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
            "form": hours_form or WorkingHoursForm(rows=staff.working_hours.all()),
            "exception_form": exception_form or WorkingExceptionForm(initial={"date": today}),
            "exceptions": WorkingException.objects.filter(staff=staff, date__gte=today),
            "opening_hours": OpeningHours.objects.all(),
        },
    )


@allow(MANAGEMENT)
def setup_staff_hours(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
    form = WorkingHoursForm(request.POST or None, rows=staff.working_hours.all())
    if request.method == "POST" and form.is_valid():
        hours = form.cleaned_data["hours"]
        saved = _attempt(form, lambda: staff_svc.working_hours_set(staff=staff, hours=hours))
        if saved is not None:
            messages.success(request, f"Weekly hours for {staff} saved.")
            _outside_hours_warning(request, svc.booked_outside_hours(staff_ids=[staff.pk]))
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _hours_page(request, staff, hours_form=form)


@allow(MANAGEMENT)
@require_POST
def setup_exception_add(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
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
            _outside_hours_warning(request, svc.booked_outside_hours(staff_ids=[staff.pk]))
            return redirect("treatments:setup_staff_hours", pk=staff.pk)
    return _hours_page(request, staff, exception_form=form)


@allow(MANAGEMENT)
@require_POST
def setup_exception_delete(request: StaffRequest, pk: int, exception_pk: int) -> HttpResponse:
    exception = get_object_or_404(WorkingException, pk=exception_pk, staff_id=pk)
    staff_svc.working_exception_remove(exception=exception)
    messages.success(request, "Exception removed.")
    return redirect("treatments:setup_staff_hours", pk=pk)
