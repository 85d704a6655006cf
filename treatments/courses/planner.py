"""Proposes dates for a course's remaining sessions. Reads only; nothing is stored.

Rules (seed: "3 to 6 sessions a few weeks apart"; the protocol gives the window):
- Step k's window is [d + min, d + max] in LOCAL calendar days, d being the local date of step
  k-1 as booked, or as proposed when it is not booked yet. Counting in local days keeps "every
  two weeks" on the same weekday across a daylight-saving change.
- The proposal keeps the previous step's local time of day where that time is free somewhere in
  the window; otherwise it takes the earliest day with any free slot, at the time nearest to it.
- A slot is free when the calendar offers it (treatments.availability, the one engine held equal
  to what session_book accepts) and the patient has no other session then. Booking still goes
  through session_book, which re-checks all this under a lock.
- Step 1 has no window: the first free slot from `first_start` (or from tomorrow).
- A window that has already closed (the previous session was long ago) proposes the first free
  slot from now, with a note: booking it is allowed and warns.

A fixed number of queries (about six) whatever the number of steps or sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from treatments.availability import OfferCalendar
from treatments.clinic_time import day_bounds, exists, local_to_utc
from treatments.models import Room, Session
from treatments.selectors import clinic_zone, rooms_active

from .models import Course, CourseStep

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


class SlotCalendar:
    """Everything the search needs, loaded once for the whole horizon: the calendar's own engine
    (treatments.availability.OfferCalendar) for the course's practitioner, its room (or every
    active room) and its patient, computed a day at a time as the search asks.

    Public for the messaging app's "offered slots": `candidates(day)` lists the day's bookable
    starts on the local 15-minute grid, `free_room(start)` says whether any start is bookable
    (and in which room).
    """

    def __init__(
        self, *, course: Course, first_day: date, days: int, zone: ZoneInfo, now: datetime
    ) -> None:
        self.course, self.zone, self.now = course, zone, now
        if course.room_id and course.room is not None and course.room.active:
            rooms: list[Room] = [course.room]
        else:
            rooms = list(rooms_active())
        self.rooms = {room.pk: room for room in rooms}
        self.offers = OfferCalendar(
            session_type=course.session_type,
            practitioners=[course.practitioner],
            rooms=rooms,
            first_day=first_day,
            days=days,
            zone=zone,
            now=now,
            patient_id=course.patient_id,
        )
        self._days: dict[date, list[tuple[datetime, Room]]] = {}

    def free_room(self, start: datetime) -> Room | None:
        """A room free for the whole slot, or None when the slot is not bookable."""
        offer = self.offers.at(start, self.course.practitioner_id)
        return self.rooms[offer.room_id] if offer is not None else None

    def at(self, day: date, wall: time) -> datetime | None:
        naive = datetime.combine(day, wall)
        return local_to_utc(naive, self.zone) if exists(naive, self.zone) else None

    def _on_day(self, day: date) -> list[tuple[datetime, Room]]:
        if day not in self._days:
            self._days[day] = [
                (offer.starts_at, self.rooms[offer.room_id]) for offer in self.offers.on_day(day)
            ]
        return self._days[day]

    def candidates(self, day: date) -> list[datetime]:
        """The day's bookable starts on the local 15-minute grid."""
        return [start for start, _ in self._on_day(day)]

    def find(self, days: list[date], preferred: time | None) -> tuple[datetime, Room] | None:
        if preferred is not None:
            for day in days:
                start = self.at(day, preferred)
                if start is not None and (room := self.free_room(start)) is not None:
                    return start, room
        for day in days:
            free = self._on_day(day)
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
