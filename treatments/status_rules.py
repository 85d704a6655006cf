"""When each day-of-session status change is possible, and, when it is not, why.

One home for the rules: the session page reads `session_actions` to show a button or the reason
it is missing, and the status services (treatments.services.booking, treatments.services.status)
refuse with the same words. Every rule is on the clinic's wall clock:

- check-in: a booked session, on the day of the session;
- completed and no-show: from the session's start (a session cannot end before it began, and a
  patient is not late before the start); no-show only while still booked (not checked in);
- undoing a check-in or a no-show: on the day of the session only. The next day the desk's day is
  closed (reports, aftercare and course nudges have moved on), so a mistake is a manager's fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .models import Session

ARRIVED = "arrived"
COMPLETED = "completed"
NO_SHOW = "no_show"
UNDO_ARRIVED = "undo_arrived"
UNDO_NO_SHOW = "undo_no_show"


@dataclass(frozen=True)
class StatusAction:
    action: str  # the value posted to the status view
    label: str
    available: bool
    reason: str = ""  # why not (yet), when not available
    confirm: bool = False  # the desk confirms on a second page before it happens


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _wall(instant: datetime, zone: ZoneInfo, today: date) -> str:
    local = instant.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == today else f"{_day(local.date())} at {local:%H:%M}"


def session_day(session: Session, zone: ZoneInfo) -> date:
    return session.starts_at.astimezone(zone).date()


def check_in_refusal(session: Session, *, now: datetime, zone: ZoneInfo) -> str:
    """Why the patient cannot be checked in now ("" when they can)."""
    day, today = session_day(session, zone), now.astimezone(zone).date()
    if day > today:
        return f"Check-in opens on {_day(day)}, the day of the session."
    if day < today:
        return f"Check-in was possible only on {_day(day)}, the day of the session."
    return ""


def started_refusal(session: Session, *, now: datetime, zone: ZoneInfo) -> str:
    """Why completing or marking a no-show must wait ("" once the session has started)."""
    if session.starts_at <= now:
        return ""
    today = now.astimezone(zone).date()
    return f"Available from {_wall(session.starts_at, zone, today)}, when the session starts."


def undo_refusal(session: Session, *, now: datetime, zone: ZoneInfo, what: str) -> str:
    """Why a check-in or no-show can no longer be undone ("" on the session's day)."""
    day = session_day(session, zone)
    if day != now.astimezone(zone).date():
        return (
            f"A {what} can only be undone on the day of the session ({_day(day)}). "
            "Ask a clinic manager if it was a mistake."
        )
    return ""


def session_actions(*, session: Session, now: datetime, zone: ZoneInfo) -> list[StatusAction]:
    """The status changes that apply to the session as it is, each available or with its reason."""
    status = session.status
    started = started_refusal(session, now=now, zone=zone)
    actions: list[StatusAction] = []
    if status == Session.Status.BOOKED:
        refusal = check_in_refusal(session, now=now, zone=zone)
        actions.append(StatusAction(ARRIVED, "Check in", not refusal, refusal))
    if status in (Session.Status.BOOKED, Session.Status.ARRIVED):
        actions.append(StatusAction(COMPLETED, "Mark completed", not started, started))
    if status == Session.Status.BOOKED:
        actions.append(StatusAction(NO_SHOW, "Mark no-show", not started, started, confirm=True))
    if status == Session.Status.ARRIVED:
        refusal = undo_refusal(session, now=now, zone=zone, what="check-in")
        actions.append(StatusAction(UNDO_ARRIVED, "Undo check-in", not refusal, refusal))
    if status == Session.Status.NO_SHOW:
        refusal = undo_refusal(session, now=now, zone=zone, what="no-show")
        actions.append(StatusAction(UNDO_NO_SHOW, "Undo no-show", not refusal, refusal))
    return actions
