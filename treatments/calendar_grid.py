"""The front-desk calendar: which columns, which rows, what sits in each quarter hour.

Rows are local wall-clock quarter hours (09:00, 09:15, ...), the same labels on every day, so a
23- or 25-hour DST day still lines up with its neighbours; each cell's instant is computed from
its own day's wall time, never by adding hours to Monday. Sessions are placed by their local
start time. Reads are a fixed handful of queries (staff, rooms, availability, sessions) whatever
the number of sessions shown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .clinic_time import day_bounds, exists, local_to_utc
from .models import Room, Session, StaffProfile
from .selectors import (
    Interval,
    availability_for,
    free_intervals,
    opening_intervals,
    rooms_active,
    sessions_between,
    staff_bookable,
)

SLOT = timedelta(minutes=15)
SLOT_MINUTES = 15
# Rows shown when nobody works on the days shown and nothing is booked.
DEFAULT_HOURS = (9 * 60, 17 * 60)


@dataclass
class Column:
    day: date
    label: str
    sublabel: str
    url: str
    is_today: bool
    practitioner: StaffProfile | None = None
    room: Room | None = None
    working: list[Interval] = field(default_factory=list)
    active: list[Session] = field(default_factory=list)
    freed: list[Session] = field(default_factory=list)

    @property
    def resource(self) -> StaffProfile | Room:
        """Whose column this is: a practitioner's or a room's, never neither."""
        if self.practitioner is not None:
            return self.practitioner
        if self.room is not None:
            return self.room
        raise ValueError("A calendar column belongs to a practitioner or a room.")


@dataclass
class Cell:
    # "session" | "free" | "past" | "busy" | "closed" | "gap"
    kind: str
    column: Column
    rowspan: int = 1
    session: Session | None = None
    # Sessions that should not share this cell but do (only with inconsistent data).
    overlapping: list[Session] = field(default_factory=list)
    # Cancelled and no-show sessions starting here: shown struck through, slot free again.
    freed: list[Session] = field(default_factory=list)
    book_url: str = ""
    label: str = ""
    # Display strings, computed once in Python (`_display`): the template prints them without
    # filters or deep lookups, which made up most of a week's 20 ms render.
    css: str = ""
    title: str = ""
    aria: str = ""
    times: str = ""
    badge: str = ""  # SafeString once filled
    patient: str = ""
    meta: str = ""
    url: str = ""
    extra: str = ""  # SafeString once filled
    share: int = 100

    @property
    def session_share(self) -> int:
        """How much of the held slot is the session itself (the rest is the clean-up buffer)."""
        s = self.session
        return round(100 * (s.ends_at - s.starts_at) / (s.blocked_until - s.starts_at)) if s else 0


@dataclass
class Row:
    at: time
    cells: list[Cell | None]
    label: str = ""
    # The cells that start in this row (the others are covered by a session's rowspan).
    shown: list[Cell] = field(default_factory=list)

    @property
    def on_the_hour(self) -> bool:
        return self.at.minute == 0


@dataclass
class Choice:
    label: str
    url: str
    active: bool


@dataclass
class CalendarPage:
    view: str
    day: date
    title: str
    columns: list[Column]
    rows: list[Row]
    resource_label: str
    resource_choices: list[tuple[str, list[Choice]]]
    view_urls: dict[str, str]
    prev_url: str
    next_url: str
    today_url: str
    hidden: dict[str, str]
    notices: list[str]
    session_count: int


# What a cell shows of a session. The shared selector loads whole rows (the booking service
# needs them); the calendar's ~80 sessions a week build faster without the other columns.
CALENDAR_FIELDS = (
    "starts_at",
    "ends_at",
    "blocked_until",
    "status",
    "practitioner_id",
    "room_id",
    "patient__first_name",
    "patient__last_name",
    "session_type__name",
    "room__name",
    "practitioner__user__first_name",
    "practitioner__user__last_name",
    "practitioner__user__username",
)


def _minutes(local: datetime) -> int:
    return local.hour * 60 + local.minute


def _calendar_url(**params: object) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{reverse('treatments:calendar')}?{urlencode(query)}"


def calendar_page(
    *,
    view: str,
    day: date,
    practitioner_id: int | None,
    room_id: int | None,
    by: str,
    zone: ZoneInfo,
    now: datetime,
    user_id: int | None = None,
) -> CalendarPage:
    """Everything the calendar template shows, for the day or the Monday-to-Sunday week.

    A week not narrowed down shows the practitioner looking at it, else the first one.
    """
    today = now.astimezone(zone).date()
    staff = list(staff_bookable())
    rooms = list(rooms_active())
    notices: list[str] = []

    practitioner = next((p for p in staff if p.pk == practitioner_id), None)
    room = next((r for r in rooms if r.pk == room_id), None) if practitioner is None else None
    if practitioner_id and practitioner is None:
        notices.append("That practitioner is not bookable any more; showing the calendar.")
    if room_id and room is None and practitioner is None:
        notices.append("That room is not in use any more; showing the calendar.")
    chosen = practitioner is not None or room is not None
    if view == "week" and not chosen:
        if by == "rooms" and rooms:
            room = rooms[0]
        elif staff:
            practitioner = next((p for p in staff if p.user_id == user_id), staff[0])
        elif rooms:
            room = rooms[0]

    if view == "week":
        monday = day - timedelta(days=day.weekday())
        days = [monday + timedelta(days=i) for i in range(7)]
        step = timedelta(days=7)
    else:
        days = [day]
        step = timedelta(days=1)

    if practitioner is not None:
        shown_staff, shown_rooms = [practitioner], []
    elif room is not None:
        shown_staff, shown_rooms = [], [room]
    elif by == "rooms":
        shown_staff, shown_rooms = [], rooms
    else:
        shown_staff, shown_rooms = staff, []

    # The query string that keeps the current selection while moving in time.
    keep = {
        "practitioner": practitioner.pk if practitioner else None,
        "room": room.pk if room else None,
        "by": "rooms"
        if (view == "day" and not practitioner and not room and by == "rooms")
        else None,
    }

    def url(**overrides: object) -> str:
        params: dict[str, object] = {"view": view, "date": day.isoformat(), **keep}
        params.update(overrides)
        return _calendar_url(**params)

    def day_url(on: date) -> str:
        # From a week the desk did not narrow down, a day shows everyone side by side.
        everyone = {} if chosen else {"practitioner": None, "room": None}
        return url(view="day", date=on.isoformat(), **everyone)

    if practitioner is not None:
        resource_label = practitioner.display_name
    elif room is not None:
        resource_label = room.name
    else:
        resource_label = "All rooms" if by == "rooms" else "All practitioners"

    columns = _columns(
        view=view,
        days=days,
        staff=shown_staff,
        rooms=shown_rooms,
        today=today,
        url=url,
        day_url=day_url,
    )
    _load(columns, days=days, zone=zone)
    rows = _rows(columns, zone=zone, now=now)

    return CalendarPage(
        view=view,
        day=day,
        title=_title(view, days),
        columns=columns,
        rows=rows,
        resource_label=resource_label,
        resource_choices=_resource_choices(
            view=view,
            staff=staff,
            rooms=rooms,
            practitioner=practitioner,
            room=room,
            by=by,
            day=day,
        ),
        view_urls={
            "day": day_url(day),
            "week": url(view="week"),
        },
        prev_url=url(date=(day - step).isoformat()),
        next_url=url(date=(day + step).isoformat()),
        today_url=url(date=today.isoformat()),
        hidden={k: str(v) for k, v in {"view": view, **keep}.items() if v},
        notices=notices,
        session_count=sum(len(c.active) for c in columns),
    )


def _title(view: str, days: list[date]) -> str:
    first, last = days[0], days[-1]
    if view == "day":
        return f"{first:%A} {first.day} {first:%B %Y}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def _columns(
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
        return columns
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
    return columns


def _load(columns: list[Column], *, days: list[date], zone: ZoneInfo) -> None:
    """Fill each column's bookable time and sessions: a fixed number of queries."""
    staff_ids = sorted({c.practitioner.pk for c in columns if c.practitioner})
    room_ids = sorted({c.room.pk for c in columns if c.room and not c.practitioner})
    starts, _ = day_bounds(days[0], zone)
    _, ends = day_bounds(days[-1], zone)

    if staff_ids:
        working = availability_for(
            staff_ids=staff_ids, first_day=days[0], days=len(days), zone=zone
        )
        sessions = sessions_between(starts=starts, ends=ends, practitioner_ids=staff_ids).only(
            *CALENDAR_FIELDS
        )
        key = "practitioner_id"
    elif room_ids:
        # A room is bookable whenever the clinic is open.
        opening = opening_intervals(first_day=days[0], days=len(days), zone=zone)
        working = {(room_id, d): opening[d] for room_id in room_ids for d in days}
        sessions = sessions_between(starts=starts, ends=ends, room_ids=room_ids).only(
            *CALENDAR_FIELDS
        )
        key = "room_id"
    else:
        return

    by_column: dict[tuple[int, date], list[Session]] = defaultdict(list)
    for session in sessions:
        local_day = session.starts_at.astimezone(zone).date()
        by_column[(getattr(session, key), local_day)].append(session)
    for column in columns:
        resource = column.resource
        column.working = working.get((resource.pk, column.day), [])
        for session in by_column[(resource.pk, column.day)]:
            (column.active if session.is_active else column.freed).append(session)


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


def _rows(columns: list[Column], *, zone: ZoneInfo, now: datetime) -> list[Row]:
    first, last = _row_range(columns, zone)
    times = [time(m // 60, m % 60) for m in range(first, last, SLOT_MINUTES)]
    labels = [f"{at:%H:%M}" for at in times]
    grid: list[list[Cell | None]] = [[None] * len(columns) for _ in times]
    book_base = reverse("treatments:session_create")

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
        resource = (f"&practitioner={column.practitioner.pk}" if column.practitioner else "") + (
            f"&room={column.room.pk}" if column.room else ""
        )
        whose = column.resource
        who = whose.display_name if isinstance(whose, StaffProfile) else whose.name
        slot = SlotText(
            url=f"{book_base}?date={day.isoformat()}&time=",
            resource=resource,
            aria=f" on {day:%a} {day.day} {day:%b} with {who}",
        )
        for r, at in enumerate(times):
            if owner[r] is not None:
                continue
            owner[r] = grid[r][col] = _slot_cell(
                column, at, labels[r], free=free, zone=zone, now=now, slot=slot
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
            if cell.kind != "free" or cell.freed:
                _display(cell, detail=detail, zone=zone)
        rows.append(Row(at=at, cells=cells, label=label, shown=shown))
    return rows


STATUS_BADGES: dict[str, str] = {
    Session.Status.BOOKED: '<span class="badge text-bg-primary">Booked</span>',
    Session.Status.ARRIVED: '<span class="badge text-bg-info">Arrived</span>',
    Session.Status.COMPLETED: '<span class="badge text-bg-success">Completed</span>',
    Session.Status.CANCELLED: '<span class="badge text-bg-secondary">Cancelled</span>',
    Session.Status.NO_SHOW: '<span class="badge text-bg-warning">No-show</span>',
}


def _hm(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def _display(cell: Cell, *, detail: str, zone: ZoneInfo) -> None:
    """Fill the strings the template prints for one cell, times in the clinic's zone."""
    extra: list[SafeString] = []
    s = cell.session
    if cell.kind == "session" and s is not None:
        times = f"{_hm(s.starts_at, zone)}–{_hm(s.ends_at, zone)}"
        cell.css = f"cal-cell cal-session cal-status-{s.status}"
        cell.url = f"{detail}{s.pk}/"
        cell.times = times
        cell.patient = s.patient.full_name
        cell.title = f"{cell.patient} · {s.session_type.name} · {times}"
        cell.badge = mark_safe(STATUS_BADGES.get(s.status, ""))  # noqa: S308 (constants above)
        where = s.room.name if cell.column.practitioner else s.practitioner.display_name
        cell.meta = f"{s.session_type.name} · {where}"
        cell.share = cell.session_share
        if cell.share < 100:
            extra.append(
                format_html(
                    '<div class="cal-buffer" title="Clean-up until {}"></div>',
                    _hm(s.blocked_until, zone),
                )
            )
        if cell.overlapping:
            extra.append(
                format_html_join(
                    "",
                    '<a class="cal-overlap" href="{}{}/">Overlaps: {} {}</a>',
                    (
                        (detail, o.pk, _hm(o.starts_at, zone), o.patient.full_name)
                        for o in cell.overlapping
                    ),
                )
            )
    if cell.freed:
        extra.append(
            format_html_join(
                "",
                '<a class="cal-freed" href="{}{}/" title="{}: {} at {}; the slot is free again">'
                "<s>{} {}</s> {}</a>",
                (
                    (
                        detail,
                        f.pk,
                        f.get_status_display(),
                        f.patient.full_name,
                        _hm(f.starts_at, zone),
                        _hm(f.starts_at, zone),
                        f.patient.full_name,
                        f.get_status_display().lower(),
                    )
                    for f in cell.freed
                ),
            )
        )
    cell.extra = mark_safe("".join(extra))  # noqa: S308 (each part built by format_html)


@dataclass
class SlotText:
    url: str
    resource: str
    aria: str


def _slot_cell(
    column: Column,
    at: time,
    label: str,
    *,
    free: list[Interval],
    zone: ZoneInfo,
    now: datetime,
    slot: SlotText,
) -> Cell:
    naive = datetime.combine(column.day, at)
    if not exists(naive, zone):
        return Cell(kind="gap", column=column, label="Clocks go forward", css="cal-cell cal-gap")
    start = local_to_utc(naive, zone)
    end = start + SLOT
    if any(f_start <= start and end <= f_end for f_start, f_end in free):
        if start <= now:
            return Cell(kind="past", column=column, css="cal-cell cal-past")
        return Cell(
            kind="free",
            column=column,
            book_url=f"{slot.url}{label[:2]}%3A{label[3:]}{slot.resource}",
            label=label,
            aria=f"Book {label}{slot.aria}",
        )
    if any(w_start <= start < w_end for w_start, w_end in column.working):
        return Cell(kind="busy", column=column, css="cal-cell cal-busy")
    return Cell(kind="closed", column=column, css="cal-cell cal-closed")


def _resource_choices(
    *,
    view: str,
    staff: list[StaffProfile],
    rooms: list[Room],
    practitioner: StaffProfile | None,
    room: Room | None,
    by: str,
    day: date,
) -> list[tuple[str, list[Choice]]]:
    base = {"view": view, "date": day.isoformat()}
    groups: list[tuple[str, list[Choice]]] = []
    if view == "day":
        groups.append(
            (
                "Side by side",
                [
                    Choice(
                        "All practitioners",
                        _calendar_url(**base),
                        not practitioner and not room and by != "rooms",
                    ),
                    Choice(
                        "All rooms",
                        _calendar_url(**base, by="rooms"),
                        not practitioner and not room and by == "rooms",
                    ),
                ],
            )
        )
    groups.append(
        (
            "Practitioners",
            [
                Choice(p.display_name, _calendar_url(**base, practitioner=p.pk), p == practitioner)
                for p in staff
            ],
        )
    )
    groups.append(
        (
            "Rooms",
            [Choice(r.name, _calendar_url(**base, room=r.pk), r == room) for r in rooms],
        )
    )
    return groups
