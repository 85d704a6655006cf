"""Booking a patient's next session: the "Book next" link and the nearest free starts it offers.

A start is offered only where the booking service would accept it: the calendar's engine
(treatments.availability), asked for the patient too, so that the patient is in no other session
then. The service still re-checks under its locks; this only spares the desk a trial and error.
Five queries (the rooms, availability, the held slots) whatever the number of sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from .availability import OfferCalendar
from .models import Room, SessionType, StaffProfile
from .selectors import rooms_active

SEARCH_DAYS = 28
# Offered starts on one day are at least this far apart, so that a handful of buttons covers
# morning and afternoon instead of four quarter hours in a row.
SPREAD = timedelta(hours=1)


@dataclass(frozen=True)
class FreeStart:
    starts_at: datetime
    room: Room


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
    rooms = {r.pk: r for r in rooms_active()}
    # The calendar's own engine, later than `after` rather than now, and with the patient's
    # own sessions in the way too.
    calendar = OfferCalendar(
        session_type=session_type,
        practitioners=[practitioner],
        rooms=list(rooms.values()),
        first_day=first_day,
        days=days,
        zone=zone,
        now=after,
        patient_id=patient_id,
    )
    found: list[FreeStart] = []
    for offset in range(days):
        on_day: list[datetime] = []
        for offer in calendar.on_day(first_day + timedelta(days=offset)):
            if len(on_day) == per_day:
                break
            if on_day and offer.starts_at - on_day[-1] < SPREAD:
                continue
            chosen = room.pk if room is not None and room.pk in offer.room_ids else offer.room_id
            on_day.append(offer.starts_at)
            found.append(FreeStart(starts_at=offer.starts_at, room=rooms[chosen]))
            if len(found) == count:
                return found
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
