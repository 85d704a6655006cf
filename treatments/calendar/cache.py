"""The calendar's rendered grid (`#calendar`), cached under the calendar version.

The page around it (navigation, user, CSRF) is rendered per request; the grid is the same for
everyone asking for the same view, day, practitioner or room, at the same quarter hour, while
nothing it shows has changed. Database triggers change the version on any such change
(migration 0005), and the version is read with one query per request, so caches local to each
process (LocMemCache) stay correct too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

from ..selectors import calendar_version
from .page import CalendarPage, calendar_page

CACHE_SECONDS = 60 * 60
# Part of every key: bump it when the grid's markup changes, so a deploy never serves grids cached
# by the previous release (2: classes instead of style attributes, for the CSP; 3: the patient's
# confirmation mark; 4: free slots are those offered for the chosen session type, which is part
# of the key; 5: session-type colours, status symbols, popovers, drag and drop; 6: the patient's own
# cancellation by link marked on the freed slot; 7: the grid's scroll wrapper is a named region;
# 8: the week view's headers say where a drop goes and today's column is marked, as the day view's).
MARKUP_VERSION = 8
QUARTER = timedelta(minutes=15)


@dataclass
class CalendarFragment:
    title: str
    html: str
    # The page the grid was rendered from; on a cache hit it is only built if someone asks
    # (a SimpleLazyObject standing in for the CalendarPage).
    page: CalendarPage
    cached: bool


def _clock_key(*, view: str, day: date, zone: ZoneInfo, now: datetime) -> str:
    """The part of "now" that the grid depends on.

    Today's date (the "today" column and link). When the days shown include today, also the
    current quarter hour: cells whose start has passed stop offering a booking. Cells start on
    local quarter hours, which are UTC quarter hours when the zone's offset is a whole number of
    quarter hours (every zone in use today); otherwise fall back to minutes.
    """
    local_now = now.astimezone(zone)
    today = local_now.date()
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    last = first + timedelta(days=6) if view == "week" else first
    if not first <= today <= last:
        return today.isoformat()
    offset = local_now.utcoffset() or timedelta(0)  # never None: local_now is aware
    step = 900 if offset % QUARTER == timedelta(0) else 60
    return f"{today.isoformat()}@{int(now.timestamp()) // step}"


def calendar_fragment(
    *,
    view: str,
    day: date,
    practitioner_id: int | None,
    room_id: int | None,
    by: str,
    zone: ZoneInfo,
    now: datetime,
    user_id: int | None,
    query_errors: dict[str, Any],
    session_type_id: int | None = None,
) -> CalendarFragment:
    page_for = partial(
        calendar_page,
        view=view,
        day=day,
        practitioner_id=practitioner_id,
        room_id=room_id,
        by=by,
        zone=zone,
        now=now,
        user_id=user_id,
        session_type_id=session_type_id,
    )
    version = calendar_version()
    # A bad address renders its own notice; rare enough not to cache.
    if version is None or query_errors:
        return _render(page_for, query_errors)
    # A week with no (or no longer valid) practitioner or room shows the viewer's own column.
    viewer = user_id if view == "week" else ""
    key = ":".join(
        str(part)
        for part in (
            "calendar-grid",
            MARKUP_VERSION,
            version,
            view,
            day.isoformat(),
            practitioner_id or "",
            room_id or "",
            by,
            viewer,
            # Free slots are those offered for this type (asked for, or the first active).
            session_type_id or "",
            _clock_key(view=view, day=day, zone=zone, now=now),
        )
    )
    hit = cache.get(key)
    if hit is not None:
        title, html = hit
        return CalendarFragment(
            title=title,
            html=mark_safe(html),  # noqa: S308 (rendered by the template engine)
            page=cast(CalendarPage, SimpleLazyObject(page_for)),
            cached=True,
        )
    fragment = _render(page_for, query_errors)
    cache.set(key, (fragment.title, fragment.html), CACHE_SECONDS)
    return fragment


def _render(page_for: Callable[[], CalendarPage], query_errors: dict[str, Any]) -> CalendarFragment:
    page = page_for()
    html = render_to_string(
        "treatments/partials/calendar_body.html", {"page": page, "query_errors": query_errors}
    )
    return CalendarFragment(title=page.title, html=html, page=page, cached=False)
