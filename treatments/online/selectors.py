"""Reads for online booking: which types and practitioners the public page offers, and the free
starts of a day, from the desk's availability engine (treatments/availability.py), so that every
start offered is one `session_book` would accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Patient
from treatments.availability import offers_between
from treatments.models import Room, SessionType, StaffProfile
from treatments.selectors import (
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
    staff = list(staff_bookable_online())
    if session_type is not None and session_type.medical_only:
        staff = [s for s in staff if s.is_medical]
    return staff


def free_slots(
    *,
    session_type: SessionType,
    day: date,
    zone: ZoneInfo,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """The day's free starts for the type (one practitioner, or anyone allowed it), from the
    desk's own availability engine: a start is offered online exactly when the calendar offers
    it, so `session_book` accepts it."""
    return free_slots_between(
        session_type=session_type,
        first_day=day,
        days=1,
        zone=zone,
        practitioner_id=practitioner_id,
        now=now,
    )


def free_slots_between(
    *,
    session_type: SessionType,
    first_day: date,
    days: int,
    zone: ZoneInfo,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> list[FreeSlot]:
    """The free starts of the local days [first_day, first_day + days), in time order: the
    same six queries for one day or a week."""
    staff = online_practitioners(session_type=session_type)
    if practitioner_id is not None:
        staff = [s for s in staff if s.pk == practitioner_id]
    offers = offers_between(
        session_type=session_type,
        practitioners=staff,
        rooms=list(rooms_active()),
        first_day=first_day,
        days=days,
        zone=zone,
        now=now or timezone.now(),
    )
    by_start: dict[datetime, list[int]] = {}
    for offer in offers:
        by_start.setdefault(offer.starts_at, []).append(offer.practitioner_id)
    return [FreeSlot(starts_at=at, practitioner_ids=tuple(ids)) for at, ids in by_start.items()]


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
    # One read for the whole stretch: the "just taken" page is what a race's losers all ask
    # for at once.
    found = free_slots_between(
        session_type=session_type,
        first_day=around.astimezone(zone).date(),
        days=days,
        zone=zone,
        practitioner_id=practitioner_id,
    )
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


def online_requests_waiting(*, now: datetime | None = None) -> QuerySet[BookingRequest]:
    """The requests the desk can still decide: a request whose start has passed is no longer
    listed (the periodic tick closes it and tells the patient)."""
    return BookingRequest.objects.filter(
        status=BookingRequest.Status.REQUESTED, starts_at__gt=now or timezone.now()
    ).select_related("session_type", "practitioner__user", "patient")


def staff_bookable_online() -> QuerySet[StaffProfile]:
    return staff_bookable().order_by("user__first_name", "user__last_name", "pk")
