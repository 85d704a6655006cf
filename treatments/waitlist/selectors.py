"""Reads for the waiting list: its settings, the desk's list (flat query counts), whether an
offer still stands, and which free slots fit an entry, from the desk's availability engine
(treatments/availability.py), so that nothing is offered that `session_book` would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from treatments.availability import Offer as FreeStart
from treatments.availability import offers_between
from treatments.courses.models import Course
from treatments.courses.planner import step_active_session
from treatments.models import Room, StaffProfile
from treatments.selectors import (
    LONGEST_HELD_SLOT,
    clinic_zone,
    patient_session_conflicts,
    rooms_active,
    session_conflicts,
    staff_bookable,
)

from .models import Entry, Offer, WaitlistSettings

# How far ahead the "just taken" page looks for the next free times of an entry.
ALTERNATIVES_DAYS = 28


def waitlist_settings() -> WaitlistSettings:
    found, _ = WaitlistSettings.objects.get_or_create(pk=1)
    return found


@dataclass(frozen=True)
class Slot:
    """A start that fits an entry, with the practitioner and room picked for it."""

    starts_at: datetime
    practitioner_id: int
    room_id: int


@dataclass(frozen=True)
class Freed:
    """Freed time: [starts_at, ends_at) of a practitioner, and of a room if a session held it."""

    practitioner_id: int
    room_id: int | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CourseBounds:
    first_day: date | None
    last_day: date | None
    # The step's session is booked: only an earlier start is worth offering.
    before: datetime | None


def course_bounds(entry: Entry, zone: ZoneInfo) -> CourseBounds | None:
    """The step's window (local days) and its booked start, or None when the course can take no
    offer (stopped, completed, no such step, the previous step unbooked)."""
    course = entry.course
    if course is None or entry.step_number is None:
        return CourseBounds(None, None, None)
    if course.status != Course.Status.ACTIVE:
        return None
    steps = {s.number: s for s in course.steps.select_related("session")}
    step = steps.get(entry.step_number)
    if step is None:
        return None
    current = step_active_session(step)
    before = current.starts_at if current is not None else None
    later = [
        session.starts_at
        for number, s in steps.items()
        if number > entry.step_number and (session := step_active_session(s)) is not None
    ]
    if later:
        before = min([before, *later]) if before is not None else min(later)
    if entry.step_number == 1:
        return CourseBounds(None, None, before)
    previous = steps.get(entry.step_number - 1)
    previous_session = step_active_session(previous) if previous is not None else None
    if previous_session is None:
        return None
    opens, closes = course.step_window(previous_session.starts_at.astimezone(zone).date())
    return CourseBounds(opens, closes, before)


def course_step_dates(*, course: Course, step_number: int | None) -> dict[str, date]:
    """The desk form's dates for "wait for an earlier slot" on a course step: from today to the
    step's booked day, or its window's last day."""
    zone = clinic_zone()
    probe = Entry(
        course=course,
        step_number=step_number,
        earliest=date.min,
        latest=date.max,
    )
    bounds = course_bounds(probe, zone) if step_number else None
    today = timezone.now().astimezone(zone).date()
    if bounds is None:
        return {"earliest": today}
    last = bounds.before.astimezone(zone).date() if bounds.before else bounds.last_day
    return {"earliest": max(today, bounds.first_day or today), **({"latest": last} if last else {})}


def entry_days(entry: Entry, bounds: CourseBounds) -> tuple[date, date]:
    first, last = entry.earliest, entry.latest
    if bounds.first_day is not None:
        first = max(first, bounds.first_day)
    if bounds.last_day is not None:
        last = min(last, bounds.last_day)
    return first, last


def bookable_staff() -> list[StaffProfile]:
    return list(staff_bookable().order_by("user__first_name", "user__last_name", "pk"))


def _people(entry: Entry, staff: list[StaffProfile]) -> list[StaffProfile]:
    if entry.practitioner_id is not None:
        return [s for s in staff if s.pk == entry.practitioner_id]
    return staff


def _patient_sessions(
    patient_id: int, candidates: list[FreeStart], duration: timedelta
) -> list[tuple[datetime, datetime]]:
    """The patient's active sessions that can meet any candidate: one query for the search,
    the same rule as patient_session_conflicts (checked per start by _overlaps)."""
    starts = [c.starts_at for c in candidates]
    return list(
        patient_session_conflicts(
            patient_id=patient_id, starts_at=min(starts), ends_at=max(starts) + duration
        ).values_list("starts_at", "ends_at")
    )


def _overlaps(busy: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """patient_session_conflicts(starts_at=start, ends_at=end).exists(), on rows already read."""
    return any(s < end and s > start - LONGEST_HELD_SLOT and e > start for s, e in busy)


def slots_for_entry(
    *,
    entry: Entry,
    first_day: date,
    last_day: date,
    earliest_start: datetime,
    zone: ZoneInfo,
    rooms: list[Room] | None = None,
    staff: list[StaffProfile] | None = None,
    freed: Freed | None = None,
    limit: int = 1,
    cache: dict[tuple[int, int | None, date, date], list[FreeStart]] | None = None,
) -> list[Slot]:
    """The first `limit` starts the booking service would accept for the entry's patient, type
    and practitioner, on the local days [first_day, last_day] (within the entry's and its
    course step's), from `earliest_start`, at the times of day the patient asked for; with
    `freed`, only those that use the freed time: held slot meeting it, with its practitioner or
    in its room. `cache`: the engine's answers shared by the entries of one batch (same type,
    practitioner and days: the same free starts; only the patient's own checks differ)."""
    if entry.patient is None or entry.patient.booking_hold or not entry.patient.email:
        # "Do not book": booking would refuse, so nothing is offered; no address: the offer
        # could not reach them, and would hold a place in the batch for nothing.
        return []
    bounds = course_bounds(entry, zone)
    if bounds is None:
        return []
    first, last = entry_days(entry, bounds)
    first, last = max(first, first_day), min(last, last_day)
    if first > last:
        return []
    session_type = entry.session_type
    held = session_type.duration + session_type.buffer
    found: list[Slot] = []
    key = (session_type.pk, entry.practitioner_id, first, last)
    if cache is None or key not in cache:
        computed = offers_between(
            session_type=session_type,
            practitioners=_people(entry, staff if staff is not None else bookable_staff()),
            rooms=rooms if rooms is not None else list(rooms_active()),
            first_day=first,
            days=(last - first).days + 1,
            zone=zone,
            now=earliest_start - timedelta(microseconds=1),
        )
        if cache is not None:
            cache[key] = computed
    candidates = list(computed if cache is None else cache[key])
    if freed is not None:
        # The freed start itself first, then the starts nearest to it.
        candidates.sort(key=lambda c: (abs(c.starts_at - freed.starts_at), c.starts_at))
    busy: list[tuple[datetime, datetime]] | None = None
    for candidate in candidates:
        start = candidate.starts_at
        if start < earliest_start:
            continue
        if bounds.before is not None and start + session_type.duration > bounds.before:
            continue
        room_id = candidate.room_id
        if freed is not None:
            if not (start < freed.ends_at and freed.starts_at < start + held):
                continue
            if candidate.practitioner_id != freed.practitioner_id:
                if freed.room_id is None or freed.room_id not in candidate.room_ids:
                    continue
                room_id = freed.room_id
        if not entry.fits_time_of_day(start.astimezone(zone).time()):
            continue
        # One patient, one session at a time (the booking service's patient rule).
        if busy is None:
            busy = _patient_sessions(entry.patient.pk, candidates, session_type.duration)
        if _overlaps(busy, start, start + session_type.duration):
            continue
        found.append(Slot(start, candidate.practitioner_id, room_id))
        if len(found) >= limit:
            break
    return found


def offer_slot_free(offer: Offer) -> bool:
    """Whether nobody has booked the offered practitioner, room or patient's time since."""
    session_type = offer.session_type
    start = offer.starts_at
    if session_conflicts(
        starts_at=start,
        blocked_until=start + session_type.duration + session_type.buffer,
        practitioner_id=offer.practitioner_id,
        room_id=offer.room_id,
    ).exists():
        return False
    patient_id = offer.entry.patient_id
    return patient_id is not None and not (
        patient_session_conflicts(
            patient_id=patient_id, starts_at=start, ends_at=start + session_type.duration
        ).exists()
    )


def offer_still_open(offer: Offer, now: datetime | None = None) -> bool:
    """Whether the offer can still be accepted: open, unexpired, its entry waiting, its slot
    free (re-checked before its email is sent)."""
    now = now or timezone.now()
    return (
        offer.status == Offer.Status.OFFERED
        and offer.expires_at > now
        and offer.entry.status == Entry.Status.ACTIVE
        and offer_slot_free(offer)
    )


def offer_get(*, pk: int) -> Offer | None:
    return (
        Offer.objects.select_related(
            "entry__patient",
            "entry__session_type",
            "entry__course",
            "practitioner__user",
            "room",
            "session_type",
        )
        .filter(pk=pk)
        .first()
    )


def entry_get(*, pk: int) -> Entry | None:
    return (
        Entry.objects.select_related(
            "patient", "session_type", "practitioner__user", "course", "added_by", "session"
        )
        .filter(pk=pk)
        .first()
    )


def entry_offers(*, entry: Entry) -> QuerySet[Offer]:
    return entry.offers.select_related("practitioner__user", "room", "session_type").order_by(
        "-created_at", "-id"
    )


LIST_STATUSES = {
    "active": (Entry.Status.ACTIVE,),
    "closed": (Entry.Status.BOOKED, Entry.Status.WITHDRAWN, Entry.Status.EXPIRED),
    "awaiting_email": (Entry.Status.AWAITING_EMAIL,),
}


def entries_list(
    *,
    status: str = "active",
    session_type_id: int | None = None,
    practitioner_id: int | None = None,
    limit: int = 200,
) -> list[Entry]:
    """The desk's list: active entries in the order they joined (the order offers go out),
    each with its offers (newest first). Three queries, whatever the number of rows."""
    statuses = LIST_STATUSES.get(status, LIST_STATUSES["active"])
    qs = Entry.objects.filter(status__in=statuses).select_related(
        "patient", "session_type", "practitioner__user", "course", "added_by"
    )
    if session_type_id is not None:
        qs = qs.filter(session_type_id=session_type_id)
    if practitioner_id is not None:
        qs = qs.filter(practitioner_id=practitioner_id)
    order = ("joined_at", "id") if status != "closed" else ("-closed_at", "-id")
    offers = Offer.objects.select_related("practitioner__user").order_by("-created_at", "-id")
    return list(qs.order_by(*order).prefetch_related(Prefetch("offers", queryset=offers))[:limit])


def entries_for_patient(*, patient_id: int) -> QuerySet[Entry]:
    return (
        Entry.objects.filter(patient_id=patient_id)
        .select_related("session_type", "practitioner__user")
        .order_by("-joined_at", "-id")
    )


def clinic_zone_now() -> tuple[ZoneInfo, datetime]:
    return clinic_zone(), timezone.now()
