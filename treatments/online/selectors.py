"""Reads for online booking: which types and practitioners the public page offers, and the free
starts of a day, computed from the desk's own rules (treatments.selectors.availability_for for
working and opening hours, active sessions as busy time) so that every start offered is one
`session_book` would accept: a practitioner allowed the type and a room both free for the whole
held slot [start, start + duration + buffer), inside the practitioner's bookable hours."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Patient
from treatments.models import Room, SessionType, StaffProfile
from treatments.selectors import (
    Interval,
    availability_for,
    free_intervals,
    rooms_active,
    sessions_between,
    staff_bookable,
)

from .models import BookingRequest

# Starts are offered on the quarter hour, as the desk's calendar grid shows them.
STEP = timedelta(minutes=15)
DAYS_AHEAD = 60


@dataclass(frozen=True)
class FreeSlot:
    starts_at: datetime
    practitioner_ids: tuple[int, ...]


def online_session_types(*, new_patient: bool | None = None) -> QuerySet[SessionType]:
    qs = SessionType.objects.filter(active=True, bookable_online=True)
    if new_patient:
        qs = qs.filter(new_patients_online=True)
    return qs.order_by("name")


def online_practitioners(*, session_type: SessionType | None = None) -> list[StaffProfile]:
    staff = list(staff_bookable().order_by("user__first_name", "user__last_name", "pk"))
    if session_type is not None and session_type.medical_only:
        staff = [s for s in staff if s.is_medical]
    return staff


def _fits(held: Interval, intervals: list[Interval]) -> bool:
    return any(start <= held[0] and held[1] <= end for start, end in intervals)


def _overlaps(held: Interval, busy: list[Interval]) -> bool:
    return any(start < held[1] and held[0] < end for start, end in busy)


def free_slots(
    *,
    session_type: SessionType,
    day: date,
    zone: ZoneInfo,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """The day's free starts for the type (one practitioner, or anyone allowed it). Four queries."""
    now = now or timezone.now()
    staff = online_practitioners(session_type=session_type)
    if practitioner_id is not None:
        staff = [s for s in staff if s.pk == practitioner_id]
    rooms = [room.pk for room in rooms_active()]
    if not staff or not rooms:
        return []
    staff_ids = [s.pk for s in staff]
    working = availability_for(staff_ids=staff_ids, first_day=day, days=1, zone=zone)
    day_start = datetime.combine(day, time.min).replace(tzinfo=zone)
    day_end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone)
    held_length = session_type.duration + session_type.buffer
    busy_staff: dict[int, list[Interval]] = defaultdict(list)
    busy_room: dict[int, list[Interval]] = defaultdict(list)
    # Only the four columns: loading whole sessions (patient, type, staff) cost most of the time.
    busy = sessions_between(
        starts=day_start, ends=day_end + held_length, include_inactive=False
    ).values_list("practitioner_id", "room_id", "starts_at", "blocked_until")
    for staff_id, room_id, starts_at, blocked_until in busy:
        busy_staff[staff_id].append((starts_at, blocked_until))
        busy_room[room_id].append((starts_at, blocked_until))
    free_by_staff = {pk: free_intervals(working[(pk, day)], busy_staff[pk]) for pk in staff_ids}
    slots = []
    start = day_start
    while start < day_end:
        held = (start, start + held_length)
        if start > now and any(not _overlaps(held, busy_room[pk]) for pk in rooms):
            who = tuple(pk for pk in staff_ids if _fits(held, free_by_staff[pk]))
            if who:
                slots.append(FreeSlot(starts_at=start, practitioner_ids=who))
        start += STEP
    return slots


def nearest_free_slots(
    *,
    session_type: SessionType,
    around: datetime,
    zone: ZoneInfo,
    practitioner_id: int | None = None,
    count: int = 3,
    days: int = 7,
) -> list[FreeSlot]:
    """The free starts nearest to `around` (same day first, then the following days)."""
    first = around.astimezone(zone).date()
    found: list[FreeSlot] = []
    for offset in range(days):
        found += free_slots(
            session_type=session_type,
            day=first + timedelta(days=offset),
            zone=zone,
            practitioner_id=practitioner_id,
        )
        if len(found) >= count * 2:
            break
    found.sort(key=lambda slot: abs(slot.starts_at - around))
    return sorted(found[:count], key=lambda slot: slot.starts_at)


def free_room(*, starts_at: datetime, blocked_until: datetime) -> Room | None:
    busy = set(
        sessions_between(starts=starts_at, ends=blocked_until, include_inactive=False).values_list(
            "room_id", flat=True
        )
    )
    return rooms_active().exclude(pk__in=busy).order_by("name", "pk").first()


def patient_for_online(*, email: str, date_of_birth: date) -> Patient | None:
    return (
        Patient.objects.filter(email__iexact=email.strip(), date_of_birth=date_of_birth)
        .order_by("pk")
        .first()
    )


def online_request_get(*, pk: int) -> BookingRequest | None:
    return (
        BookingRequest.objects.select_related("session_type", "practitioner__user", "patient")
        .filter(pk=pk)
        .first()
    )


def online_requests_waiting() -> QuerySet[BookingRequest]:
    return BookingRequest.objects.filter(status=BookingRequest.Status.REQUESTED).select_related(
        "session_type", "practitioner__user", "patient"
    )


def staff_bookable_online() -> QuerySet[StaffProfile]:
    return staff_bookable().order_by("user__first_name", "user__last_name", "pk")
