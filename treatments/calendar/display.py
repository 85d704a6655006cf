"""The strings a calendar cell prints, formatted once in Python, times in the clinic's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ..models import Session
from .cells import Cell

STATUS_BADGES: dict[str, str] = {
    Session.Status.BOOKED: '<span class="badge text-bg-primary">Booked</span>',
    Session.Status.ARRIVED: '<span class="badge text-bg-info">Arrived</span>',
    Session.Status.COMPLETED: '<span class="badge text-bg-success">Completed</span>',
    Session.Status.CANCELLED: '<span class="badge text-bg-secondary">Cancelled</span>',
    Session.Status.NO_SHOW: '<span class="badge text-bg-warning">No-show</span>',
}

# The patient confirmed through their email's link (for the session's current time).
CONFIRMED_MARK = (
    ' <span class="badge text-bg-light border cal-confirmed" title="Confirmed by the patient"'
    ' aria-label="Confirmed by the patient">&#10003;</span>'
)


def _hm(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def cell_display(cell: Cell, *, detail: str, zone: ZoneInfo) -> None:
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
        badge = STATUS_BADGES.get(s.status, "")
        if s.status == Session.Status.BOOKED and getattr(s, "patient_confirmed", False):
            badge += CONFIRMED_MARK
        cell.badge = mark_safe(badge)  # noqa: S308 (constants above)
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
