"""Clinic set-up: the clinic's details, opening hours, rooms and session types (staff and their
hours are in treatments.services.staff).

Each write is atomic and raises DomainError with a message the manager can act on. Changing hours
or durations never moves a booked session: those stay where they are, and the set-up screens
report how many booked sessions a change leaves outside the new hours
(treatments.selectors.booked_outside_hours) so the manager can move them.

Who checks what: the forms (treatments.forms.setup) parse each field (required, length, NUL
bytes, email format, a choice from the list); these services take typed values and enforce the
rules that hold whoever calls them (unique names, hours that end after they start, the seed's
session lengths, nothing booked left without a room or practitioner).
"""

from __future__ import annotations

import zoneinfo
from contextlib import AbstractContextManager
from datetime import time

from django.db import transaction

from mesoclinic.errors import DomainError, unique_or_field_error

from ..models import (
    Clinic,
    OnlineBooking,
    OpeningHours,
    Room,
    SessionType,
    StaffProfile,
)
from ..selectors import clinic_get, future_booked_count

Hours = dict[int, tuple[time, time] | None]  # weekday -> (start, end), None = closed / off

DURATION_MIN, DURATION_MAX = 30, 60  # seed: "30 to 60 minutes by area"
BUFFER_MAX = 120
# Whoever may hold each qualification: registration is checked for the medical ones.
REGISTERED = set(StaffProfile.MEDICAL)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


# --- validation helpers -----------------------------------------------------------------------


def _check_hours(hours: Hours, *, what: str) -> dict[int, tuple[time, time]]:
    checked: dict[int, tuple[time, time]] = {}
    for weekday, span in hours.items():
        if weekday not in range(7):
            raise DomainError(f"Unknown weekday {weekday}.")
        if span is None:
            continue
        starts, ends = span
        if starts is None or ends is None:
            raise DomainError(
                f"{WEEKDAYS[weekday]}: give both times, or mark the day {what}.",
                field=f"starts_{weekday}",
            )
        if starts >= ends:
            raise DomainError(
                f"{WEEKDAYS[weekday]}: the start ({starts:%H:%M}) must be before the end "
                f"({ends:%H:%M}).",
                field=f"starts_{weekday}",
            )
        checked[weekday] = (starts, ends)
    return checked


# --- the clinic -------------------------------------------------------------------------------


@transaction.atomic
def clinic_update(
    *,
    name: str,
    timezone_name: str,
    address: str = "",
    phone: str = "",
    email: str = "",
    front_desk_second_factor: bool | None = None,
    online_booking: str | None = None,
) -> Clinic:
    # Every request shows its times in this zone: one that zoneinfo cannot load would break
    # every page, so it is refused here whoever calls.
    if timezone_name not in zoneinfo.available_timezones():
        raise DomainError(
            f"“{timezone_name[:64]}” is not a known time zone. Choose one from the list, "
            "for example Europe/London.",
            field="timezone",
        )
    clinic = clinic_get()
    Clinic.objects.select_for_update(of=("self",)).filter(pk=clinic.pk).first()
    clinic.name, clinic.timezone, clinic.address = name, timezone_name, address
    clinic.phone, clinic.email = phone, email
    if front_desk_second_factor is not None:
        clinic.front_desk_second_factor = front_desk_second_factor
    if online_booking is not None:
        if online_booking not in OnlineBooking.values:
            raise DomainError("Choose how online booking works.", field="online_booking")
        clinic.online_booking = online_booking
    clinic.save()
    return clinic


@transaction.atomic
def opening_hours_set(*, hours: Hours) -> list[OpeningHours]:
    """Replace the weekly opening hours; a weekday missing or None is closed."""
    checked = _check_hours(hours, what="closed")
    # Two managers saving at once would both delete, then both insert one row per weekday (a
    # unique violation): the clinic row's lock makes the second wait and replace the first.
    Clinic.objects.select_for_update(of=("self",)).filter(pk=clinic_get().pk).first()
    OpeningHours.objects.all().delete()
    return OpeningHours.objects.bulk_create(
        OpeningHours(weekday=day, opens=opens, closes=closes)
        for day, (opens, closes) in sorted(checked.items())
    )


# --- rooms ------------------------------------------------------------------------------------


def _room_name(name: str, *, exclude_id: int | None = None) -> str:
    name = name.strip()
    clash = Room.objects.filter(name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise DomainError(f"There is already a room called “{name}”.", field="name")
    return name


def _room_taken(name: str) -> AbstractContextManager[None]:
    # Two managers adding the same name at once both pass _room_name: the unique constraint
    # decides, and the loser reads the same message beside the field.
    return unique_or_field_error(
        constraint="name", message=f"There is already a room called “{name}”.", field="name"
    )


@transaction.atomic
def room_create(*, name: str) -> Room:
    name = _room_name(name)
    with _room_taken(name):
        return Room.objects.create(name=name)


@transaction.atomic
def room_update(*, room: Room, name: str, active: bool) -> Room:
    room = Room.objects.select_for_update(of=("self",)).get(pk=room.pk)
    room.name = _room_name(name, exclude_id=room.pk)
    if room.active and not active:
        _refuse_room_deactivation(room)
    room.active = active
    with _room_taken(room.name):
        room.save()
    return room


def _refuse_room_deactivation(room: Room) -> None:
    booked = future_booked_count(room=room)
    if booked:
        raise DomainError(
            f"{room} has {booked} booked session{'s' if booked != 1 else ''} from now on. "
            "Move them to another room in the calendar, then take this room out of use.",
            field="active",
        )


@transaction.atomic
def room_deactivate(*, room: Room) -> Room:
    """Take a room out of use. Rooms are never deleted: past sessions keep pointing at them."""
    room = Room.objects.select_for_update(of=("self",)).get(pk=room.pk)
    _refuse_room_deactivation(room)
    room.active = False
    room.save(update_fields=["active"])
    return room


# --- session types ----------------------------------------------------------------------------


def _session_type_fields(
    *,
    name: str,
    duration_minutes: int,
    buffer_minutes: int,
    exclude_id: int | None = None,
) -> str:
    name = name.strip()
    clash = SessionType.objects.filter(name__iexact=name)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise DomainError(f"There is already a session type called “{name}”.", field="name")
    if not DURATION_MIN <= duration_minutes <= DURATION_MAX:
        raise DomainError(
            f"A session lasts {DURATION_MIN} to {DURATION_MAX} minutes.",
            field="duration_minutes",
        )
    if not 0 <= buffer_minutes <= BUFFER_MAX:
        raise DomainError(
            f"The buffer after a session is 0 to {BUFFER_MAX} minutes.", field="buffer_minutes"
        )
    return name


def _session_type_taken(name: str) -> AbstractContextManager[None]:
    return unique_or_field_error(
        constraint="name",
        message=f"There is already a session type called “{name}”.",
        field="name",
    )


@transaction.atomic
def _online_fields(*, bookable_online: bool, new_patients_online: bool) -> None:
    if new_patients_online and not bookable_online:
        raise DomainError(
            "New patients can book a type online only if it is bookable online.",
            field="new_patients_online",
        )


def session_type_create(
    *,
    name: str,
    duration_minutes: int,
    buffer_minutes: int,
    medical_only: bool = True,
    active: bool = True,
    bookable_online: bool = False,
    new_patients_online: bool = False,
) -> SessionType:
    _online_fields(bookable_online=bookable_online, new_patients_online=new_patients_online)
    name = _session_type_fields(
        name=name, duration_minutes=duration_minutes, buffer_minutes=buffer_minutes
    )
    with _session_type_taken(name):
        return SessionType.objects.create(
            name=name,
            duration_minutes=duration_minutes,
            buffer_minutes=buffer_minutes,
            medical_only=medical_only,
            active=active,
            bookable_online=bookable_online,
            new_patients_online=new_patients_online,
        )


@transaction.atomic
def session_type_update(
    *,
    session_type: SessionType,
    name: str,
    duration_minutes: int,
    buffer_minutes: int,
    medical_only: bool,
    active: bool,
    bookable_online: bool = False,
    new_patients_online: bool = False,
) -> SessionType:
    """Existing sessions keep the times they were booked with; only new bookings use the change.

    Rewriting booked sessions' lengths could overlap the next patient, so it is never done here.
    """
    session_type = SessionType.objects.select_for_update(of=("self",)).get(pk=session_type.pk)
    session_type.name = _session_type_fields(
        name=name,
        duration_minutes=duration_minutes,
        buffer_minutes=buffer_minutes,
        exclude_id=session_type.pk,
    )
    session_type.duration_minutes = duration_minutes
    session_type.buffer_minutes = buffer_minutes
    session_type.medical_only = medical_only
    session_type.active = active
    _online_fields(bookable_online=bookable_online, new_patients_online=new_patients_online)
    session_type.bookable_online = bookable_online
    session_type.new_patients_online = new_patients_online
    with _session_type_taken(session_type.name):
        session_type.save()
    return session_type
