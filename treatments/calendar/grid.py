"""The calendar grid: which columns, which rows, what sits in each quarter hour.

Rows are local wall-clock quarter hours (09:00, 09:15, ...), the same labels on every day, so a
23- or 25-hour DST day still lines up with its neighbours; each cell's instant is computed from
its own day's wall time, never by adding hours to Monday. Sessions are placed by their local
start time. Reads are a fixed handful of queries (staff, rooms, availability, sessions) whatever
the number of sessions shown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.html import format_html

from ..availability import Offer, offers_between
from ..clinic_time import day_bounds, exists, local_to_utc
from ..messaging.models import PatientCancellation
from ..models import Room, Session, SessionType, StaffProfile
from ..selectors import (
    Interval,
    availability_for,
    free_intervals,
    opening_intervals,
    sessions_between,
)
from .cells import CalendarSession, Cell, Column, Named, PatientName, Row, SlotText
from .display import cell_display, row_html

SLOT = timedelta(minutes=15)
SLOT_MINUTES = 15
# Rows shown when nobody works on the days shown and nothing is booked.
DEFAULT_HOURS = (9 * 60, 17 * 60)


# What a cell shows of a session, read as plain values (`CalendarSession`): the shared selector
# loads whole rows with their related rows (the booking service needs them); the grid's ~100
# sessions a day view build about 4x faster this way.
CALENDAR_VALUES = (
    "pk",
    "starts_at",
    "ends_at",
    "blocked_until",
    "status",
    "session_type_id",
    "practitioner_id",
    "room_id",
    "patient__first_name",
    "patient__last_name",
    "session_type__name",
    "room__name",
    "practitioner__user__first_name",
    "practitioner__user__last_name",
    "practitioner__user__username",
    "patient_confirmed",
    "patient_cancelled_at",
)


def _with_patient_cancellation(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """When the patient cancelled through the email's link (None otherwise): the freed slot says
    so. In the same query; the table is watched by the calendar version (messaging 0006)."""
    by_patient = PatientCancellation.objects.filter(session=OuterRef("pk")).values("cancelled_at")
    return sessions.annotate(patient_cancelled_at=Subquery(by_patient[:1]))


def _calendar_sessions(rows: Iterable[tuple[Any, ...]]) -> list[CalendarSession]:
    sessions = []
    for (
        pk,
        starts_at,
        ends_at,
        blocked_until,
        status,
        session_type_id,
        practitioner_id,
        room_id,
        patient_first,
        patient_last,
        type_name,
        room_name,
        user_first,
        user_last,
        username,
        confirmed,
        cancelled_by_patient_at,
    ) in rows:
        sessions.append(
            CalendarSession(
                pk=pk,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                status=status,
                session_type_id=session_type_id,
                practitioner_id=practitioner_id,
                room_id=room_id,
                patient=PatientName(patient_first, patient_last),
                session_type=Named(type_name),
                room=Named(room_name),
                # As StaffProfile.display_name: User.get_full_name() or the username.
                practitioner=Named(f"{user_first} {user_last}".strip() or username),
                patient_confirmed=bool(confirmed),
                patient_cancelled_at=cancelled_by_patient_at,
            )
        )
    return sessions


def _minutes(local: datetime) -> int:
    return local.hour * 60 + local.minute


def build_columns(
    *,
    view: str,
    days: list[date],
    staff: list[StaffProfile],
    rooms: list[Room],
    today: date,
    url: Callable[..., str],
    day_url: Callable[[date], str],
) -> list[Column]:
    columns: list[Column] = []
    if view == "week" and (staff or rooms):
        for d in days:
            columns.append(
                Column(
                    day=d,
                    label=f"{d:%a}",
                    sublabel=f"{d.day} {d:%b}",
                    url=day_url(d),
                    is_today=d == today,
                    practitioner=staff[0] if staff else None,
                    room=rooms[0] if rooms else None,
                )
            )
    else:
        d = days[0]
        for person in staff:
            columns.append(
                Column(
                    day=d,
                    label=person.display_name,
                    sublabel=person.get_qualification_display(),
                    url=url(view="week", practitioner=person.pk, room=None, by=None),
                    is_today=d == today,
                    practitioner=person,
                )
            )
        for r in rooms:
            columns.append(
                Column(
                    day=d,
                    label=r.name,
                    sublabel="Room",
                    url=url(view="week", room=r.pk, practitioner=None, by=None),
                    is_today=d == today,
                    room=r,
                )
            )
    # Both views: today's column carries the current-time line, every header where a drop goes.
    for column in columns:
        column.today = " cal-on-today" if column.is_today else ""
        column.drop = format_html(
            ' data-day="{}" data-practitioner="{}" data-room="{}"',
            column.day.isoformat(),
            column.practitioner.pk if column.practitioner else "",
            column.room.pk if column.room else "",
        )
    return columns


def load_columns(
    columns: list[Column], *, days: list[date], zone: ZoneInfo
) -> dict[tuple[int, date], list[Interval]] | None:
    """Fill each column's bookable time and sessions: a fixed number of queries. Returns the
    practitioners' availability when the columns are practitioners' (for `load_offers`)."""
    staff_ids = sorted({c.practitioner.pk for c in columns if c.practitioner})
    room_ids = sorted({c.room.pk for c in columns if c.room and not c.practitioner})
    starts, _ = day_bounds(days[0], zone)
    _, ends = day_bounds(days[-1], zone)

    if staff_ids:
        working = availability_for(
            staff_ids=staff_ids, first_day=days[0], days=len(days), zone=zone
        )
        key = "practitioner_id"
        shown = sessions_between(starts=starts, ends=ends, practitioner_ids=staff_ids)
    elif room_ids:
        # A room is bookable whenever the clinic is open.
        opening = opening_intervals(first_day=days[0], days=len(days), zone=zone)
        working = {(room_id, d): opening[d] for room_id in room_ids for d in days}
        key = "room_id"
        shown = sessions_between(starts=starts, ends=ends, room_ids=room_ids)
    else:
        return None
    sessions = _calendar_sessions(_with_patient_cancellation(shown).values_list(*CALENDAR_VALUES))

    by_column: dict[tuple[int, date], list[CalendarSession]] = defaultdict(list)
    for session in sessions:
        local_day = session.starts_at.astimezone(zone).date()
        by_column[(getattr(session, key), local_day)].append(session)
    for column in columns:
        resource = column.resource
        column.working = working.get((resource.pk, column.day), [])
        for session in by_column[(resource.pk, column.day)]:
            (column.active if session.is_active else column.freed).append(session)
    return working if staff_ids else None


def _row_range(columns: list[Column], zone: ZoneInfo) -> tuple[int, int]:
    """First and last wall-clock minute to show: working hours and sessions, whole hours."""
    marks: list[int] = []
    for column in columns:
        for start, end in column.working:
            marks.append(_minutes(start.astimezone(zone)))
            local_end = end.astimezone(zone)
            marks.append(24 * 60 if local_end.date() > column.day else _minutes(local_end))
        for session in column.active + column.freed:
            marks.append(_minutes(session.starts_at.astimezone(zone)))
            local_end = session.blocked_until.astimezone(zone)
            marks.append(24 * 60 if local_end.date() > column.day else _minutes(local_end))
    if not marks:
        return DEFAULT_HOURS
    first = min(marks) // 60 * 60
    last = min(24 * 60, math.ceil(max(marks) / 60) * 60)
    return first, max(last, first + 60)


def load_offers(
    columns: list[Column],
    *,
    session_type: SessionType | None,
    staff: list[StaffProfile],
    rooms: list[Room],
    days: list[date],
    zone: ZoneInfo,
    now: datetime,
    working: dict[tuple[int, date], list[Interval]] | None = None,
) -> None:
    """Fill each column's offered starts for the session type (`treatments.availability`): a
    practitioner's column with the room picked for them, a room's with the first practitioner
    free then. Four queries whatever the columns, one when `working` (the practitioners'
    availability from `load_columns`) covers the practitioners."""
    if session_type is None or not columns:
        return
    shown_staff = [c.practitioner for c in columns if c.practitioner]
    shown_rooms = [c.room for c in columns if c.room and not c.practitioner]
    offers = offers_between(
        session_type=session_type,
        practitioners=list({p.pk: p for p in shown_staff}.values()) if shown_staff else staff,
        rooms=rooms if shown_staff else list({r.pk: r for r in shown_rooms}.values()),
        first_day=days[0],
        days=len(days),
        zone=zone,
        now=now,
        working=working if shown_staff else None,
    )
    by_key: dict[tuple[str, int, date], dict[datetime, Offer]] = defaultdict(dict)
    for offer in offers:
        day = offer.starts_at.astimezone(zone).date()
        by_key[("p", offer.practitioner_id, day)].setdefault(offer.starts_at, offer)
        for room_id in offer.room_ids:
            # In a room's column: this room, with the first practitioner free (offers come
            # in the practitioners' order).
            if ("r", room_id, day) in by_key and offer.starts_at in by_key[("r", room_id, day)]:
                continue
            by_key[("r", room_id, day)][offer.starts_at] = Offer(
                offer.starts_at, offer.practitioner_id, (room_id,)
            )
    for column in columns:
        if column.practitioner is not None:
            key: tuple[str, int] = ("p", column.practitioner.pk)
        elif column.room is not None:
            key = ("r", column.room.pk)
        else:
            continue
        column.offers = by_key.get((*key, column.day), {})


def build_rows(
    columns: list[Column],
    *,
    zone: ZoneInfo,
    now: datetime,
    session_type: SessionType | None = None,
    names: dict[tuple[str, int], str] | None = None,
) -> list[Row]:
    first, last = _row_range(columns, zone)
    times = [time(m // 60, m % 60) for m in range(first, last, SLOT_MINUTES)]
    labels = [f"{at:%H:%M}" for at in times]
    grid: list[list[Cell | None]] = [[None] * len(columns) for _ in times]
    book_base = reverse("treatments:session_create")
    starts_by_day: dict[date, list[datetime | None]] = {}

    for col, column in enumerate(columns):
        # The cell that covers each row of this column (a session spans several rows).
        owner: list[Cell | None] = [None] * len(times)

        def row_of(instant: datetime) -> int:
            return max(0, (_minutes(instant.astimezone(zone)) - first) // SLOT_MINUTES)

        for session in column.active:
            r = row_of(session.starts_at)
            covering = owner[r]
            if covering is not None:
                covering.overlapping.append(session)
                continue
            span = math.ceil((session.blocked_until - session.starts_at) / SLOT)
            span = max(1, min(span, len(times) - r))
            cell = Cell(kind="session", column=column, rowspan=span, session=session)
            grid[r][col] = cell
            for covered in range(r, r + span):
                owner[covered] = cell

        busy = [(s.starts_at, s.blocked_until) for s in column.active]
        free = free_intervals(column.working, busy)
        # What every free quarter hour of the column shares, formatted once (the booking link
        # is exactly what urlencode() gave: "time=09%3A00").
        day = column.day
        type_part = f"session_type={session_type.pk}&" if session_type else ""
        slot = SlotText(
            url=f"{book_base}?{type_part}date={day.isoformat()}&time=",
            aria=f" on {day:%a} {day.day} {day:%b}",
            type_name=session_type.name if session_type else "",
            held=(session_type.duration_minutes + session_type.buffer_minutes)
            if session_type
            else 0,
            names=names or {},
        )
        # Each row's instant on this column's day (None in the spring-forward gap), computed
        # once per day rather than once per cell: a day view's columns share one day.
        instants = starts_by_day.get(day)
        if instants is None:
            instants = starts_by_day[day] = [_instant(day, at, zone) for at in times]
        for r in range(len(times)):
            if owner[r] is not None:
                continue
            owner[r] = grid[r][col] = _slot_cell(
                column, instants[r], labels[r], free=free, now=now, slot=slot
            )

        for session in column.freed:
            r = row_of(session.starts_at)
            covering = owner[r] if r < len(times) else None
            if covering is not None:  # every row has its cell by now
                covering.freed.append(session)

    detail = reverse("treatments:session_detail", args=[0]).removesuffix("0/")
    rows = []
    for at, label, cells in zip(times, labels, grid, strict=True):
        shown = [cell for cell in cells if cell is not None]
        for cell in shown:
            # Only sessions and cells with freed sessions have anything to format.
            if cell.kind == "session" or cell.freed:
                cell_display(cell, detail=detail, zone=zone)
        row = Row(at=at, cells=cells, label=label, shown=shown)
        row.html = row_html(row)
        rows.append(row)
    return rows


@lru_cache(maxsize=8192)
def _instant(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of wall time `at` on `day`, None if it falls in the spring-forward gap
    (a pure function of its arguments and the zone's rules, so kept per process: a week view
    asks for ~340 of them)."""
    naive = datetime.combine(day, at)
    return local_to_utc(naive, zone) if exists(naive, zone) else None


def _slot_cell(
    column: Column,
    start: datetime | None,
    label: str,
    *,
    free: list[Interval],
    now: datetime,
    slot: SlotText,
) -> Cell:
    if start is None:
        return Cell(
            kind="gap",
            column=column,
            label="Clocks go forward",
            css=f"cal-cell cal-gap{column.today}",
        )
    end = start + SLOT
    offer = column.offers.get(start)
    if offer is not None:
        who = slot.names.get(("p", offer.practitioner_id), "")
        where = slot.names.get(("r", offer.room_id), "")
        return Cell(
            kind="free",
            column=column,
            book_url=(
                f"{slot.url}{label[:2]}%3A{label[3:]}"
                f"&practitioner={offer.practitioner_id}&room={offer.room_id}"
            ),
            label=label,
            aria=f"Book {slot.type_name} at {label}{slot.aria} with {who} in {where}",
            css=f"cal-cell cal-free{column.today}",
        )
    if any(f_start <= start and end <= f_end for f_start, f_end in free):
        if start <= now:
            return Cell(kind="past", column=column, css=f"cal-cell cal-past{column.today}")
        # Free now, but the session type does not fit (its clean-up included) or no room is.
        return Cell(
            kind="busy",
            column=column,
            css=f"cal-cell cal-busy cal-nofit{column.today}",
            label=f"{slot.type_name} ({slot.held} min incl. clean-up) does not fit here",
        )
    if any(w_start <= start < w_end for w_start, w_end in column.working):
        return Cell(kind="busy", column=column, css=f"cal-cell cal-busy{column.today}")
    return Cell(kind="closed", column=column, css=f"cal-cell cal-closed{column.today}")
