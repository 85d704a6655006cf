"""Everything the calendar page shows: the day or week, its columns and rows, the navigation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..models import Room, SessionType, StaffProfile
from ..selectors import rooms_active, session_types_active, staff_bookable
from .cells import Column, Row
from .grid import build_columns, build_rows, load_columns, load_offers
from .links import calendar_url, next_available_url


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
    session_type: SessionType | None
    session_type_choices: list[Choice]
    next_available_url: str
    # The clinic's zone and today's date when today is shown: static/js/calendar.js draws the
    # current-time line from them (the grid is cached, so the line is not rendered in).
    zone_name: str = ""
    today: str = ""


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
    session_type_id: int | None = None,
) -> CalendarPage:
    """Everything the calendar template shows, for the day or the Monday-to-Sunday week.

    A week not narrowed down shows the practitioner looking at it, else the first one. Free
    quarter hours are those the booking service accepts for the session type (the one asked
    for, else the first active one).
    """
    today = now.astimezone(zone).date()
    staff = list(staff_bookable())
    rooms = list(rooms_active())
    types = list(session_types_active())
    notices: list[str] = []
    session_type = next((t for t in types if t.pk == session_type_id), None)
    if session_type_id and session_type is None:
        notices.append("That session type is no longer offered; showing the first one.")
    session_type = session_type or (types[0] if types else None)
    if session_type is None:
        notices.append(
            "No session type is offered yet, so nothing can be booked. A clinic manager adds "
            "session types in Clinic set-up."
        )

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
        "session_type": session_type.pk if session_type else None,
        "practitioner": practitioner.pk if practitioner else None,
        "room": room.pk if room else None,
        "by": "rooms"
        if (view == "day" and not practitioner and not room and by == "rooms")
        else None,
    }

    def url(**overrides: object) -> str:
        params: dict[str, object] = {"view": view, "date": day.isoformat(), **keep}
        params.update(overrides)
        return calendar_url(**params)

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

    columns = build_columns(
        view=view,
        days=days,
        staff=shown_staff,
        rooms=shown_rooms,
        today=today,
        url=url,
        day_url=day_url,
    )
    working = load_columns(columns, days=days, zone=zone)
    load_offers(
        columns,
        working=working,
        session_type=session_type,
        staff=staff,
        rooms=rooms,
        days=days,
        zone=zone,
        now=now,
    )
    names = {("p", p.pk): p.display_name for p in staff} | {("r", r.pk): r.name for r in rooms}
    rows = build_rows(columns, zone=zone, now=now, session_type=session_type, names=names)

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
            session_type=session_type,
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
        session_type=session_type,
        next_available_url=next_available_url(
            session_type=session_type.pk if session_type else None,
            practitioner=practitioner.pk if practitioner else None,
        ),
        session_type_choices=[
            Choice(
                f"{t.name} · {t.duration_minutes}+{t.buffer_minutes} min",
                url(session_type=t.pk),
                t == session_type,
            )
            for t in types
        ],
        zone_name=zone.key,
        today=today.isoformat() if any(c.is_today for c in columns) else "",
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


def _resource_choices(
    *,
    view: str,
    staff: list[StaffProfile],
    rooms: list[Room],
    practitioner: StaffProfile | None,
    room: Room | None,
    by: str,
    day: date,
    session_type: SessionType | None,
) -> list[tuple[str, list[Choice]]]:
    base = {
        "view": view,
        "date": day.isoformat(),
        "session_type": session_type.pk if session_type else None,
    }
    groups: list[tuple[str, list[Choice]]] = []
    if view == "day":
        groups.append(
            (
                "Side by side",
                [
                    Choice(
                        "All practitioners",
                        calendar_url(**base),
                        not practitioner and not room and by != "rooms",
                    ),
                    Choice(
                        "All rooms",
                        calendar_url(**base, by="rooms"),
                        not practitioner and not room and by == "rooms",
                    ),
                ],
            )
        )
    groups.append(
        (
            "Practitioners",
            [
                Choice(p.display_name, calendar_url(**base, practitioner=p.pk), p == practitioner)
                for p in staff
            ],
        )
    )
    groups.append(
        (
            "Rooms",
            [Choice(r.name, calendar_url(**base, room=r.pk), r == room) for r in rooms],
        )
    )
    return groups
