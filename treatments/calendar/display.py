"""The strings a calendar cell prints, formatted once in Python, times in the clinic's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ..models import Session
from .cells import Cell

# Status in words and a symbol, never by colour alone (the block's colour is its session type).
STATUS_BADGES: dict[str, str] = {
    status: (
        f'<span class="badge cal-st cal-st-{status}">'
        f'<span class="cal-st-icon" aria-hidden="true">{icon}</span>{label}</span>'
    )
    for status, icon, label in (
        (Session.Status.BOOKED, "◷", "Booked"),
        (Session.Status.ARRIVED, "➜", "Arrived"),
        (Session.Status.COMPLETED, "✓", "Completed"),
        (Session.Status.CANCELLED, "✕", "Cancelled"),
        (Session.Status.NO_SHOW, "⊘", "No-show"),
    )
}
# Session types are coloured from a fixed palette by id, so a type keeps its colour from day to
# day and between views (calendar.css: cal-type-0 ... cal-type-7, each with dark text on a light
# tint, contrast above 7:1).
TYPE_COLOURS = 8
MOVE_HINT = ". Arrow keys move it by a quarter hour or a column"


def short_name(first: str, last: str) -> str:
    """What a small block can always show of a patient: "J. Austen"."""
    return f"{first[:1]}. {last}" if first and last else (last or first)


# The patient confirmed through their email's link (for the session's current time).
CONFIRMED_MARK = (
    ' <span class="badge text-bg-light border cal-confirmed" title="Confirmed by the patient"'
    ' aria-label="Confirmed by the patient">&#10003;</span>'
)


def _hm(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%H:%M}"


def _freed(session: Session, *, detail: str, zone: ZoneInfo) -> SafeString:
    """A cancelled or no-show session, struck through in the slot it freed. One the patient
    cancelled through the email's link says so, with when (the desk's Today page lists it too)."""
    start = _hm(session.starts_at, zone)
    status = session.get_status_display()
    by_patient = getattr(session, "patient_cancelled_at", None)
    if by_patient is not None:
        local = by_patient.astimezone(zone)
        when = f"{local.day} {local:%b} {local:%H:%M}"
        return format_html(
            '<a class="cal-freed cal-freed-patient" href="{}{}/" data-cancelled-by-patient '
            'title="Cancelled by the patient through the email link on {}; the slot is free '
            'again"><s>{} {}</s> <span class="cal-freed-note">cancelled by patient {}</span></a>',
            detail,
            session.pk,
            when,
            start,
            session.patient.full_name,
            when,
        )
    return format_html(
        '<a class="cal-freed" href="{}{}/" title="{}: {} at {}; the slot is free again">'
        "<s>{} {}</s> {}</a>",
        detail,
        session.pk,
        status,
        session.patient.full_name,
        start,
        start,
        session.patient.full_name,
        status.lower(),
    )


def cell_display(cell: Cell, *, detail: str, zone: ZoneInfo) -> None:
    """Fill the strings the template prints for one cell, times in the clinic's zone."""
    extra: list[SafeString] = []
    s = cell.session
    if cell.kind == "session" and s is not None:
        start = _hm(s.starts_at, zone)
        times = f"{start}–{_hm(s.ends_at, zone)}"
        movable = s.status == Session.Status.BOOKED
        cell.css = (
            f"cal-cell cal-session cal-type-{s.session_type_id % TYPE_COLOURS} "
            f"cal-status-{s.status}{cell.column.today}{' cal-movable' if movable else ''}"
        )
        cell.url = f"{detail}{s.pk}/"
        cell.times = times
        cell.patient = s.patient.full_name
        where = s.room.name if cell.column.practitioner else s.practitioner.display_name
        cell.meta = f"{s.session_type.name} · {where}"
        status = s.get_status_display()
        cell.title = f"{times} · {cell.patient} · {cell.meta} · {status}"
        badge = STATUS_BADGES.get(s.status, "")
        if movable and getattr(s, "patient_confirmed", False):
            badge += CONFIRMED_MARK
        cell.badge = mark_safe(badge)  # noqa: S308 (constants above)
        cell.share = cell.session_share
        # The block shows the start and a short name on its first line, so that even a
        # 15-minute block keeps the patient; the popover (hover and keyboard focus) shows
        # the rest. A booked session can be dragged, moved with the arrow keys, or moved
        # through its form (the popover's "Move" link).
        cell.html = format_html(
            '<a class="cal-block" href="{url}" title="{aria}"{drag}>'
            '<span class="cal-block-line"><span class="cal-block-time">{start}</span> '
            '<span class="cal-block-patient">{short}</span></span>{badge}'
            '<span class="cal-block-meta">{meta}</span></a>'
            '<div class="cal-pop"><strong>{full}</strong><br>{times} · {meta}<br>'
            "{badge}{move}</div>",
            url=cell.url,
            aria=cell.title + (MOVE_HINT if movable else ""),
            drag=format_html(
                ' draggable="true" data-move="{}{}/drop/" data-at="{}"', detail, s.pk, start
            )
            if movable
            else "",
            start=start,
            short=short_name(s.patient.first_name, s.patient.last_name),
            badge=cell.badge,
            meta=cell.meta,
            full=cell.patient,
            times=times,
            move=format_html(' <a class="cal-pop-move" href="{}{}/move/">Move…</a>', detail, s.pk)
            if movable
            else "",
        )
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
            format_html_join("", "{}", ((_freed(f, detail=detail, zone=zone),) for f in cell.freed))
        )
    cell.extra = mark_safe("".join(extra))  # noqa: S308 (each part built by format_html)
