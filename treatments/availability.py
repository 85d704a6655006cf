"""Which starts can be booked: the calendar offers exactly what the booking service accepts.

For a session type (duration + clean-up buffer), some practitioners and some rooms, a start on
the local quarter-hour grid is offered when `session_book` would accept it
(treatments/services/booking.py, `_check_rules` and `_raise_if_taken`):
- it is later than now;
- the type is active, the practitioner bookable (and medical for a medical-only type), the room
  active;
- the practitioner works for the whole session [start, start + duration) inside one bookable
  interval of the start's local day (`availability_for`; the buffer may run past closing);
- neither the practitioner nor the room holds an active session whose held slot
  [starts_at, blocked_until) meets [start, start + duration + buffer).
Each offer lists every free room (in name order); the first is the one picked for the desk.
Given a patient, a start is offered only if the patient is in no other session during it (the
desk's "Book next" and the course planner ask this; the calendar asks for no one in particular).

Wall times follow the booking form: a quarter hour in the spring-forward gap does not exist, one
that happens twice means its first occurrence. Reads: availability (three queries) and the held
slots of the practitioners, rooms and patient (one), whatever the number of days, people or
sessions: `OfferCalendar` loads them once and computes a day (or one start) on demand.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import Q

from .clinic_time import day_bounds, exists, local_to_utc
from .models import Room, Session, SessionType, StaffProfile
from .selectors import LONGEST_HELD_SLOT, Interval, availability_for

QUARTER_MINUTES = 15


@dataclass(frozen=True)
class Offer:
    """A start the booking service accepts for this practitioner, with the rooms free for it."""

    starts_at: datetime
    practitioner_id: int
    room_ids: tuple[int, ...]

    @property
    def room_id(self) -> int:
        """The room picked for the desk (the first free one in name order)."""
        return self.room_ids[0]


@lru_cache(maxsize=1024)
def _quarter_hours(day: date, zone: ZoneInfo) -> tuple[datetime, ...]:
    """The day's local quarter hours that exist, as UTC instants, ascending (a pure function
    of the day and the zone's rules, so kept per process)."""
    starts = []
    for minute in range(0, 24 * 60, QUARTER_MINUTES):
        naive = datetime.combine(day, time(minute // 60, minute % 60))
        if exists(naive, zone):
            starts.append(local_to_utc(naive, zone))
    return tuple(sorted(starts))


class _Busy:
    """One resource's held slots, sorted, merged: "is [start, end) free?" by bisection."""

    def __init__(self, slots: list[Interval]) -> None:
        merged: list[Interval] = []
        for start, end in sorted(slots):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def free(self, start: datetime, end: datetime) -> bool:
        # The first held slot ending after `start` is the only one that can meet [start, end).
        i = bisect_left(self.ends, start)
        while i < len(self.ends) and self.ends[i] == start:
            i += 1  # half-open: a slot ending exactly at `start` leaves it free
        return i == len(self.starts) or self.starts[i] >= end


def _bookable(session_type: SessionType, practitioner: StaffProfile) -> bool:
    if not (practitioner.bookable and practitioner.user.is_active):
        return False
    return practitioner.is_medical or not session_type.medical_only


class OfferCalendar:
    """The reads for a horizon of local days, loaded once (availability, three queries; the held
    slots, one), and the offers computed a day or a start at a time on demand: a search that
    stops at the first free start reads no more than one that looks at every day.

    With `patient_id`, a start is offered only when that patient is in no other active session
    during it ([start, start + duration): the buffer is not the patient's), as session_book
    refuses. `practitioners` need their `user` loaded.
    """

    def __init__(
        self,
        *,
        session_type: SessionType,
        practitioners: Sequence[StaffProfile],
        rooms: Sequence[Room],
        first_day: date,
        days: int,
        zone: ZoneInfo,
        now: datetime,
        patient_id: int | None = None,
        working: dict[tuple[int, date], list[Interval]] | None = None,
    ) -> None:
        self.zone, self.now = zone, now
        self.duration = session_type.duration
        self.held = session_type.duration + session_type.buffer
        people = [p for p in practitioners if _bookable(session_type, p)]
        active_rooms = [r for r in rooms if r.active]
        if not session_type.active or not people or not active_rooms:
            people = []
        self.people = people
        self.order = {p.pk: n for n, p in enumerate(people)}
        self.working: dict[tuple[int, date], list[Interval]] = {}
        self.person_busy: dict[int, _Busy] = {}
        self.room_busy: list[tuple[int, _Busy]] = []
        self.patient_busy = _Busy([])
        # The rooms free for [start, start + held) do not depend on the practitioner: worked
        # out once per start, not once per practitioner and start.
        self._rooms_free_at: dict[datetime, tuple[int, ...]] = {}
        if not people:
            return
        if working is None or any(
            (p.pk, first_day + timedelta(days=d)) not in working
            for p in people
            for d in range(days)
        ):
            working = availability_for(
                staff_ids=[p.pk for p in people], first_day=first_day, days=days, zone=zone
            )
        self.working = working
        # Held slots that can meet any candidate: a candidate starts inside its local day and
        # holds at most `held`, so [day start, last day's end + held) covers them all.
        window_start, _ = day_bounds(first_day, zone)
        _, window_end = day_bounds(first_day + timedelta(days=days - 1), zone)
        people_ids = [p.pk for p in people]
        room_ids = [r.pk for r in active_rooms]
        who = Q(practitioner_id__in=people_ids) | Q(room_id__in=room_ids)
        if patient_id is not None:
            who |= Q(patient_id=patient_id)
        rows = Session.objects.filter(
            who,
            status__in=Session.ACTIVE,
            starts_at__lt=window_end + self.held,
            starts_at__gt=window_start - LONGEST_HELD_SLOT,
            blocked_until__gt=window_start,
        ).values_list(
            "practitioner_id", "room_id", "patient_id", "starts_at", "ends_at", "blocked_until"
        )
        by_person: dict[int, list[Interval]] = defaultdict(list)
        by_room: dict[int, list[Interval]] = defaultdict(list)
        by_patient: list[Interval] = []
        for practitioner_id, room_id, row_patient, starts_at, ends_at, blocked_until in rows:
            by_person[practitioner_id].append((starts_at, blocked_until))
            by_room[room_id].append((starts_at, blocked_until))
            if row_patient == patient_id:
                by_patient.append((starts_at, ends_at))
        self.person_busy = {pk: _Busy(by_person[pk]) for pk in people_ids}
        self.room_busy = [
            (r.pk, _Busy(by_room[r.pk])) for r in sorted(active_rooms, key=lambda r: (r.name, r.pk))
        ]
        self.patient_busy = _Busy(by_patient)

    def _offer(self, start: datetime, practitioner_id: int) -> Offer | None:
        """The offer at `start` for a practitioner whose bookable time holds the session."""
        end = start + self.held
        if not self.person_busy[practitioner_id].free(start, end):
            return None
        if not self.patient_busy.free(start, start + self.duration):
            return None
        free_rooms = self._rooms_free_at.get(start)
        if free_rooms is None:
            free_rooms = self._rooms_free_at[start] = tuple(
                pk for pk, busy in self.room_busy if busy.free(start, end)
            )
        return Offer(start, practitioner_id, free_rooms) if free_rooms else None

    def on_day(self, day: date) -> list[Offer]:
        """The day's offered starts on the local quarter-hour grid, by time then practitioner
        (in the order given)."""
        grid = _quarter_hours(day, self.zone)
        offers: list[Offer] = []
        for person in self.people:
            for open_start, open_end in self.working.get((person.pk, day), []):
                # Candidates inside [open_start, open_end - duration], later than now.
                i = bisect_left(grid, max(open_start, self.now))
                while i < len(grid) and grid[i] <= self.now:
                    i += 1
                for start in grid[i:]:
                    if start + self.duration > open_end:
                        break
                    if (offer := self._offer(start, person.pk)) is not None:
                        offers.append(offer)
        offers.sort(key=lambda o: (o.starts_at, self.order[o.practitioner_id]))
        return offers

    def at(self, start: datetime, practitioner_id: int) -> Offer | None:
        """The offer at any `start` (on the grid or not), or None when it would be refused."""
        if start <= self.now or practitioner_id not in self.order:
            return None
        day = start.astimezone(self.zone).date()
        intervals = self.working.get((practitioner_id, day), [])
        if not any(s <= start and start + self.duration <= e for s, e in intervals):
            return None
        return self._offer(start, practitioner_id)


def offers_between(
    *,
    session_type: SessionType,
    practitioners: Sequence[StaffProfile],
    rooms: Sequence[Room],
    first_day: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
    working: dict[tuple[int, date], list[Interval]] | None = None,
) -> list[Offer]:
    """Every offered start on the local days [first_day, first_day + days), by time then
    practitioner (in the order given). `practitioners` need their `user` loaded.

    `working` may pass `availability_for` already read for the same days (the calendar reads
    it for its columns); it is read again unless it covers every bookable practitioner."""
    calendar = OfferCalendar(
        session_type=session_type,
        practitioners=practitioners,
        rooms=rooms,
        first_day=first_day,
        days=days,
        zone=zone,
        now=now,
        working=working,
    )
    return [
        offer
        for offset in range(days)
        for offer in calendar.on_day(first_day + timedelta(days=offset))
    ]


@dataclass(frozen=True)
class NextSlot:
    """An offer with what the desk reads and the booking link it follows."""

    offer: Offer
    local: datetime
    practitioner: StaffProfile
    room: Room


def offers_next(
    *,
    session_type: SessionType,
    practitioners: Sequence[StaffProfile],
    rooms: Sequence[Room],
    zone: ZoneInfo,
    now: datetime,
    limit: int = 12,
    weeks: int = 8,
) -> list[NextSlot]:
    """The nearest `limit` offered starts from now, looking `weeks` ahead a week at a time
    (four queries a week)."""
    found: list[Offer] = []
    first_day = now.astimezone(zone).date()
    for week in range(weeks):
        found += offers_between(
            session_type=session_type,
            practitioners=practitioners,
            rooms=rooms,
            first_day=first_day + timedelta(days=7 * week),
            days=7,
            zone=zone,
            now=now,
        )
        if len(found) >= limit:
            break
    people = {p.pk: p for p in practitioners}
    room_by_pk = {r.pk: r for r in rooms}
    return [
        NextSlot(o, o.starts_at.astimezone(zone), people[o.practitioner_id], room_by_pk[o.room_id])
        for o in found[:limit]
    ]
