"""Proposes dates for a course's remaining sessions. Reads only; nothing is stored.

Rules (seed: "3 to 6 sessions a few weeks apart"; the protocol gives the window):
- Step k's window is [d + min, d + max] in LOCAL calendar days, d being the local date of step
  k-1 as booked, or as proposed when it is not booked yet. Counting in local days keeps "every
  two weeks" on the same weekday across a daylight-saving change.
- The proposal keeps the previous step's local time of day where that time is free somewhere in
  the window; otherwise it takes the earliest day with any free slot, at the time nearest to it.
- A slot is free when it lies inside the practitioner's bookable time (working hours within
  opening hours, extra hours, minus leave: treatments.selectors.availability_for), the
  practitioner and a room are free for the session plus its buffer, and the patient has no other
  session then. Booking still goes through session_book, which re-checks all this under a lock.
- Step 1 has no window: the first free slot from `first_start` (or from tomorrow).
- A window that has already closed (the previous session was long ago) proposes the first free
  slot from now, with a note: booking it is allowed and warns.

A fixed number of queries (about six) whatever the number of steps or sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from treatments.clinic_time import day_bounds, exists, local_to_utc
from treatments.models import Room, Session
from treatments.selectors import (
    LONGEST_HELD_SLOT,
    Interval,
    availability_for,
    clinic_zone,
    rooms_active,
)

from .models import Course, CourseStep

GRID_MINUTES = 15
FIRST_STEP_SEARCH_DAYS = 28
LATE_SEARCH_DAYS = 28


@dataclass(frozen=True)
class StepPlan:
    number: int
    session: Session | None  # the active session filling the step, if any
    starts_at: datetime | None  # booked start, or proposed start (UTC)
    room: Room | None
    window_open: date | None  # local dates; None for step 1
    window_close: date | None
    note: str = ""

    @property
    def booked(self) -> bool:
        return self.session is not None

    @property
    def completed(self) -> bool:
        return self.session is not None and self.session.status == Session.Status.COMPLETED

    @property
    def proposed(self) -> bool:
        return self.session is None and self.starts_at is not None

    @property
    def outside_window(self) -> bool:
        if self.starts_at is None or self.window_open is None or self.window_close is None:
            return False
        day = timezone.localtime(self.starts_at, clinic_zone()).date()
        return not (self.window_open <= day <= self.window_close)


def step_active_session(step: CourseStep) -> Session | None:
    """The session that fills the step; a cancelled or no-show one leaves it unbooked again."""
    session = step.session
    return session if session is not None and session.status in Session.ACTIVE else None


def _overlaps(busy: list[Interval], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


class SlotCalendar:
    """Everything the search needs, loaded once for the whole horizon.

    Public for the messaging app's "offered slots": `candidates(day)` lists starts on the local
    15-minute grid inside the practitioner's bookable time, `free_room(start)` says whether a
    start is bookable (and in which room).
    """

    def __init__(
        self, *, course: Course, first_day: date, days: int, zone: ZoneInfo, now: datetime
    ) -> None:
        self.course, self.zone, self.now = course, zone, now
        self.duration = course.session_type.duration
        self.buffer = course.session_type.buffer
        self.working = availability_for(
            staff_ids=[course.practitioner_id], first_day=first_day, days=days, zone=zone
        )
        if course.room_id and course.room is not None and course.room.active:
            self.rooms: list[Room] = [course.room]
        else:
            self.rooms = list(rooms_active().order_by("name", "id"))
        starts = day_bounds(first_day, zone)[0] - timedelta(days=1)
        ends = starts + timedelta(days=days + 2)
        self.practitioner_busy: list[Interval] = []
        self.patient_busy: list[Interval] = []
        self.room_busy: dict[int, list[Interval]] = defaultdict(list)
        room_ids = [room.pk for room in self.rooms]
        # Tuples, not model instances: a six-month horizon holds thousands of sessions (about
        # 12,000 at the 100k bench size), and building Session objects for them cost most of
        # the proposal's time.
        rows = Session.objects.filter(
            Q(practitioner_id=course.practitioner_id)
            | Q(room_id__in=room_ids)
            | Q(patient_id=course.patient_id),
            status__in=Session.ACTIVE,
            starts_at__lt=ends,
            # Bounded below like the shared overlap queries (see LONGEST_HELD_SLOT): without it
            # this reads the practitioner's, the rooms' and the patient's whole history.
            starts_at__gt=starts - LONGEST_HELD_SLOT,
            blocked_until__gt=starts,
        ).values_list(
            "practitioner_id", "room_id", "patient_id", "starts_at", "ends_at", "blocked_until"
        )
        for practitioner_id, room_id, patient_id, starts_at, ends_at, blocked_until in rows:
            held = (starts_at, blocked_until)
            if practitioner_id == course.practitioner_id:
                self.practitioner_busy.append(held)
            if room_id in room_ids:
                self.room_busy[room_id].append(held)
            if patient_id == course.patient_id:
                self.patient_busy.append((starts_at, ends_at))

    def free_room(self, start: datetime) -> Room | None:
        """A room free for the whole slot, or None when the slot is not bookable."""
        end, held_until = start + self.duration, start + self.duration + self.buffer
        if start <= self.now:
            return None
        intervals = self.working.get((self.course.practitioner_id, self._day(start)), [])
        # Like session_book: the session (not its buffer) must fit in the bookable time.
        if not any(w_start <= start and end <= w_end for w_start, w_end in intervals):
            return None
        if _overlaps(self.practitioner_busy, start, held_until):
            return None
        if _overlaps(self.patient_busy, start, end):
            return None
        for room in self.rooms:
            if not _overlaps(self.room_busy[room.pk], start, held_until):
                return room
        return None

    def _day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def at(self, day: date, wall: time) -> datetime | None:
        naive = datetime.combine(day, wall)
        return local_to_utc(naive, self.zone) if exists(naive, self.zone) else None

    def candidates(self, day: date) -> list[datetime]:
        """Starts on a 15-minute local grid inside the day's bookable time."""
        out: list[datetime] = []
        for w_start, w_end in self.working.get((self.course.practitioner_id, day), []):
            local = w_start.astimezone(self.zone)
            minutes = (-(local.minute % GRID_MINUTES)) % GRID_MINUTES
            start = w_start + timedelta(minutes=minutes)
            while start + self.duration <= w_end:
                out.append(start)
                start += timedelta(minutes=GRID_MINUTES)
        return out

    def find(self, days: list[date], preferred: time | None) -> tuple[datetime, Room] | None:
        if preferred is not None:
            for day in days:
                start = self.at(day, preferred)
                if start is not None and (room := self.free_room(start)) is not None:
                    return start, room
        for day in days:
            free = [
                (start, room) for start in self.candidates(day) if (room := self.free_room(start))
            ]
            if not free:
                continue
            if preferred is None:
                return free[0]

            def distance(option: tuple[datetime, Room], day: date = day) -> float:
                wall = datetime.combine(day, preferred)
                local = option[0].astimezone(self.zone).replace(tzinfo=None)
                return abs((local - wall).total_seconds())

            return min(free, key=distance)
        return None


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def course_propose(*, course: Course, first_start: datetime | None = None) -> list[StepPlan]:
    """Booked steps as they are, and a proposed start for every unbooked one."""
    zone = clinic_zone()
    now = timezone.now()
    steps = list(course.steps.select_related("session").order_by("number"))
    today = now.astimezone(zone).date()
    # Without a wish, the first session is proposed from tomorrow: a slot minutes from now is
    # rarely what the desk wants, and it can still book today by hand.
    tomorrow, _ = day_bounds(now.astimezone(zone).date() + timedelta(days=1), zone)
    search_from = max(first_start, now) if first_start else tomorrow
    first_day = search_from.astimezone(zone).date()
    booked_days = [
        session.starts_at.astimezone(zone).date()
        for step in steps
        if (session := step_active_session(step)) is not None
    ]
    last_anchor = max([first_day, *booked_days])
    horizon_end = last_anchor + timedelta(
        days=FIRST_STEP_SEARCH_DAYS + LATE_SEARCH_DAYS + len(steps) * course.interval_max_days
    )
    calendar_start = min(today, first_day)
    calendar = SlotCalendar(
        course=course,
        first_day=calendar_start,
        days=(horizon_end - calendar_start).days + 1,
        zone=zone,
        now=now,
    )

    plans: list[StepPlan] = []
    anchor: datetime | None = None  # local aware datetime of the previous step
    for step in steps:
        window = course.step_window(anchor.date()) if anchor is not None else None
        window_open, window_close = window if window is not None else (None, None)
        session = step_active_session(step)
        if session is not None:
            plans.append(
                StepPlan(
                    number=step.number,
                    session=session,
                    starts_at=session.starts_at,
                    room=session.room,
                    window_open=window_open,
                    window_close=window_close,
                )
            )
            anchor = session.starts_at.astimezone(zone)
            continue

        note = ""
        if anchor is None or window is None:  # the first step: no window yet
            days = _days(first_day, first_day + timedelta(days=FIRST_STEP_SEARCH_DAYS - 1))
            preferred = search_from.astimezone(zone).time() if first_start else None
        else:
            preferred = anchor.time().replace(tzinfo=None)
            opens, closes = window
            if closes < today:
                note = (
                    f"Its window closed on {closes:%a %d %b %Y}; the earliest free time "
                    "is proposed. Booking it now is late."
                )
                days = _days(today, today + timedelta(days=LATE_SEARCH_DAYS - 1))
            else:
                days = _days(max(opens, today), closes)
        found = calendar.find(days, preferred)
        if found is None:
            last = days[-1]
            note = (
                f"{course.practitioner} has no free {course.session_type} slot between "
                f"{days[0]:%a %d %b} and {last:%a %d %b %Y}. Book it by hand or ask the "
                "practitioner to add hours."
            )
            plans.append(
                StepPlan(
                    number=step.number,
                    session=None,
                    starts_at=None,
                    room=None,
                    window_open=window_open,
                    window_close=window_close,
                    note=note,
                )
            )
            # Later steps are still proposed, counted from the end of this step's search.
            anchor = datetime.combine(last, preferred or time(10), tzinfo=zone)
            continue
        start, room = found
        plans.append(
            StepPlan(
                number=step.number,
                session=None,
                starts_at=start,
                room=room,
                window_open=window_open,
                window_close=window_close,
                note=note,
            )
        )
        anchor = start.astimezone(zone)
    return plans
