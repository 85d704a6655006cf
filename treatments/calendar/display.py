"""The strings a calendar cell prints, formatted once in Python, times in the clinic's zone."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from ..models import Session
from .cells import Cell, Row

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


def cell_display(cell: Cell, *, detail: str, zone: ZoneInfo) -> None:
    """Fill the strings the template prints for one cell, times in the clinic's zone.

    The markup is built with f-strings and `html.escape` (what `format_html` does per argument,
    without its per-call overhead: a day view formats ~100 sessions); `detail` is a path from
    `reverse()`, escaped like every other value."""
    extra: list[str] = []
    s = cell.session
    path = escape(detail)
    if cell.kind == "session" and s is not None:
        start = _hm(s.starts_at, zone)
        times = f"{start}–{_hm(s.ends_at, zone)}"
        movable = s.status == Session.Status.BOOKED
        cell.css = (
            f"cal-cell cal-session cal-type-{s.session_type_id % TYPE_COLOURS} "
            f"cal-status-{s.status}{cell.column.today}{' cal-movable' if movable else ''}"
        )
        cell.url = f"{detail}{s.pk}/"
        patient = s.patient
        cell.patient = patient.full_name
        where = s.room.name if cell.column.practitioner else s.practitioner.display_name
        cell.meta = f"{s.session_type.name} · {where}"
        status = s.get_status_display()
        cell.title = f"{times} · {cell.patient} · {cell.meta} · {status}"
        badge = STATUS_BADGES.get(s.status, "")
        if movable and getattr(s, "patient_confirmed", False):
            badge += CONFIRMED_MARK
        cell.share = cell.session_share
        # The block shows the start and a short name on its first line, so that even a
        # 15-minute block keeps the patient; the popover (hover and keyboard focus) shows
        # the rest. A booked session can be dragged, moved with the arrow keys, or moved
        # through its form (the popover's "Move" link).
        pk = escape(str(s.pk))
        aria = cell.title + (MOVE_HINT if movable else "")
        drag = (
            f' draggable="true" data-move="{path}{pk}/drop/" data-at="{escape(start)}"'
            if movable
            else ""
        )
        move = f' <a class="cal-pop-move" href="{path}{pk}/move/">Move…</a>' if movable else ""
        meta = escape(cell.meta)
        cell.html = mark_safe(  # noqa: S308 (every value escaped)
            f'<a class="cal-block" href="{escape(cell.url)}" title="{escape(aria)}"{drag}>'
            f'<span class="cal-block-line"><span class="cal-block-time">{escape(start)}</span> '
            f'<span class="cal-block-patient">'
            f"{escape(short_name(patient.first_name, patient.last_name))}</span></span>{badge}"
            f'<span class="cal-block-meta">{meta}</span></a>'
            f'<div class="cal-pop"><strong>{escape(cell.patient)}</strong><br>'
            f"{escape(times)} · {meta}<br>{badge}{move}</div>"
        )
        if cell.share < 100:
            extra.append(
                f'<div class="cal-buffer" title="Clean-up until '
                f'{escape(_hm(s.blocked_until, zone))}"></div>'
            )
        for o in cell.overlapping:
            extra.append(
                f'<a class="cal-overlap" href="{path}{escape(str(o.pk))}/">Overlaps: '
                f"{escape(_hm(o.starts_at, zone))} {escape(o.patient.full_name)}</a>"
            )
    for f in cell.freed:
        name = escape(f.patient.full_name)
        at = escape(_hm(f.starts_at, zone))
        by_patient = getattr(f, "patient_cancelled_at", None)
        if by_patient is None:
            status = f.get_status_display()
            css, data, why = "cal-freed", "", f"{escape(status)}: {name} at {at}"
            note = escape(status.lower())
        else:
            # The patient cancelled through the email's link: the desk's Today page lists it too.
            local = by_patient.astimezone(zone)
            when = escape(f"{local.day} {local:%b} {local:%H:%M}")
            css, data = "cal-freed cal-freed-patient", " data-cancelled-by-patient"
            why = f"Cancelled by the patient through the email link on {when}"
            note = f'<span class="cal-freed-note">cancelled by patient {when}</span>'
        extra.append(
            f'<a class="{css}" href="{path}{escape(str(f.pk))}/"{data} title="{why}; the slot is'
            f' free again"><s>{at} {name}</s> {note}</a>'
        )
    cell.extra = mark_safe("".join(extra))  # noqa: S308 (every value escaped above)


def row_html(row: Row) -> SafeString:
    """One row of the grid (`<tr>` and its cells), formatted in Python: the template printed
    ~500 cells a day view through ~2,000 variable lookups, most of an uncached render.

    The markup is exactly what calendar_body.html printed cell by cell (autoescaped the same
    way: `html.escape` is what Django's `escape` calls)."""
    label = row.label
    if row.at.minute == 0:
        head = (
            f'<tr data-at="{label}" class="cal-hour">\n          '
            f'<th scope="row" class="cal-time-col">{label}</th>'
        )
    else:
        head = (
            f'<tr data-at="{label}">\n          <th scope="row" class="cal-time-col">'
            f'<span class="cal-quarter">{label}</span></th>'
        )
    parts = [head, "\n          "]
    for cell in row.shown:
        kind = cell.kind
        extra = conditional_escape(cell.extra)
        if kind == "session":
            pk = cell.session.pk if cell.session is not None else ""
            parts.append(
                f'<td rowspan="{cell.rowspan}" class="{escape(cell.css)} pct-{cell.share}" '
                f'id="session-{pk}">{conditional_escape(cell.html)}{extra}</td>'
            )
        elif kind == "free":
            at = escape(cell.label)
            parts.append(
                f'<td class="{escape(cell.css)}"><a class="cal-slot" href="{escape(cell.book_url)}"'
                f' title="Book at {at}" aria-label="{escape(cell.aria)}">'
                f'<span class="cal-slot-label">{at}</span></a>{extra}</td>'
            )
        elif cell.label:
            parts.append(
                f'<td class="{escape(cell.css)}" title="{escape(cell.label)}">{extra}</td>'
            )
        else:
            parts.append(f'<td class="{escape(cell.css)}">{extra}</td>')
    parts.append("\n        </tr>")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above; html/extra are SafeStrings)
