"""Booking a patient's next session: the "Book next" link and the nearest free starts it offers.

A start is offered only where the booking service would accept it (treatments.services.booking):
in the future, inside the practitioner's bookable time (treatments.selectors.availability_for)
for the whole session, with the practitioner and a room free for the session plus its clean-up
buffer, and the patient in no other session then. The service still re-checks under its locks;
this only spares the desk a trial and error. Four queries whatever the number of sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse

from .models import Room, Session, SessionType, StaffProfile
from .selectors import LONGEST_HELD_SLOT, Interval, availability_for, rooms_active

GRID_MINUTES = 15
SEARCH_DAYS = 28
# Offered starts on one day are at least this far apart, so that a handful of buttons covers
# morning and afternoon instead of four quarter hours in a row.
SPREAD = timedelta(hours=1)


@dataclass(frozen=True)
class FreeStart:
    starts_at: datetime
    room: Room


def _overlaps(busy: list[Interval], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_starts(
    *,
    session_type: SessionType,
    practitioner: StaffProfile,
    after: datetime,
    now: datetime,
    zone: ZoneInfo,
    patient_id: int | None = None,
    room: Room | None = None,
    count: int = 6,
    per_day: int = 3,
    days: int = SEARCH_DAYS,
) -> list[FreeStart]:
    """The first `count` bookable starts from `after` (at most `per_day` a day), each with a
    free room: `room` when it is free, else the first free active room by name."""
    after = max(after, now)
    first_day = after.astimezone(zone).date()
    working = availability_for(
        staff_ids=[practitioner.pk], first_day=first_day, days=days, zone=zone
    )
    rooms = list(rooms_active().order_by("name", "id"))
    if room is not None and room.active:
        rooms = [room, *(r for r in rooms if r.pk != room.pk)]
    spans = [interval for intervals in working.values() for interval in intervals]
    if not spans or not rooms:
        return []
    starts, ends = min(s for s, _ in spans), max(e for _, e in spans)
    practitioner_busy: list[Interval] = []
    patient_busy: list[Interval] = []
    room_busy: dict[int, list[Interval]] = defaultdict(list)
    who = Q(practitioner_id=practitioner.pk) | Q(room_id__in=[r.pk for r in rooms])
    if patient_id is not None:
        who |= Q(patient_id=patient_id)
    rows = Session.objects.filter(
        who,
        status__in=Session.ACTIVE,
        starts_at__lt=ends,
        starts_at__gt=starts - LONGEST_HELD_SLOT,
        blocked_until__gt=starts,
    ).values_list(
        "practitioner_id", "room_id", "patient_id", "starts_at", "ends_at", "blocked_until"
    )
    for practitioner_id, room_id, row_patient_id, starts_at, ends_at, blocked_until in rows:
        if practitioner_id == practitioner.pk:
            practitioner_busy.append((starts_at, blocked_until))
        room_busy[room_id].append((starts_at, blocked_until))
        if row_patient_id == patient_id:
            patient_busy.append((starts_at, ends_at))

    duration, held = session_type.duration, session_type.duration + session_type.buffer
    found: list[FreeStart] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        on_day: list[datetime] = []
        for w_start, w_end in working.get((practitioner.pk, day), []):
            local = w_start.astimezone(zone)
            start = w_start + timedelta(minutes=(-local.minute) % GRID_MINUTES)
            while start + duration <= w_end and len(on_day) < per_day:
                if (
                    start > after
                    and (not on_day or start - on_day[-1] >= SPREAD)
                    and not _overlaps(practitioner_busy, start, start + held)
                    and not _overlaps(patient_busy, start, start + duration)
                ):
                    free = next(
                        (r for r in rooms if not _overlaps(room_busy[r.pk], start, start + held)),
                        None,
                    )
                    if free is not None:
                        on_day.append(start)
                        found.append(FreeStart(starts_at=start, room=free))
                        if len(found) == count:
                            return found
                start += timedelta(minutes=GRID_MINUTES)
    return found


def book_next_url(
    *,
    patient_id: int,
    session_type_id: int,
    practitioner_id: int,
    room_id: int | None = None,
    day: date | None = None,
) -> str:
    """The booking form for the patient's next session, prefilled, offering free starts."""
    query: dict[str, object] = {
        "patient": patient_id,
        "session_type": session_type_id,
        "practitioner": practitioner_id,
    }
    if room_id is not None:
        query["room"] = room_id
    if day is not None:
        query["date"] = day.isoformat()
    return f"{reverse('treatments:session_create')}?{urlencode(query)}"


def slot_url(*, base: dict[str, object], start: FreeStart, zone: ZoneInfo) -> str:
    """The booking form with one offered start filled in: the desk only confirms."""
    local = start.starts_at.astimezone(zone)
    query = {
        **base,
        "room": start.room.pk,
        "date": local.date().isoformat(),
        "time": f"{local:%H:%M}",
    }
    return f"{reverse('treatments:session_create')}?{urlencode(query)}"
