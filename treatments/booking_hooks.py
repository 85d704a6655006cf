"""The booking's hook table: who reacts, in the booking's own transaction, when a session is
booked, moved, cancelled, checked in, completed or marked a no-show.

Booking sits below courses and messaging, so it cannot import them; they fill these slots from
their `AppConfig.ready()` instead. The calling order is the order of the slots, not the order
the apps load in:

1. "courses": the last completed session of a course completes it and sets its maintenance due
   date (treatments.courses.session_events.on_session_change).
2. "messaging": the session's emails follow it (confirmation, reminders, aftercare, cancellation)
   and so do the course's (follow-up and maintenance nudges, course completed). It runs after
   "courses" so that it sees the course already completed
   (treatments.messaging.reactions.on_session_change).
3. "questionnaire": a patient who will have no valid screening at a booked session is sent the
   health questionnaire once, timed before it; it follows the sessions and is cancelled when no
   longer needed (treatments.clinical.services.questionnaire.on_session_change).

Each handler runs inside the booking's transaction: if one raises, the whole change rolls back,
so a booking never commits without its messages. The table is pinned by
treatments/tests/test_booking_hooks.py.

A second table, `freed_hooks`, says that bookable time was freed: a session cancelled, marked a
no-show or moved away (the time it held), a leave removed or extra hours added (the day's
hours). The session hooks cannot say it for a move: they see the session at its new time only.
Its one slot:

1. "waitlist": the freed time is offered to the waiting list at once
   (treatments.waitlist.services.on_time_freed).

It is called in the freeing write's transaction, like the session hooks, so offers exist exactly
when the time is free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mesoclinic.hooks import HookTable

from .models import Session

SessionChange = Literal["booked", "rescheduled", "cancelled", "arrived", "completed", "no_show"]
SESSION_CHANGES: tuple[SessionChange, ...] = (
    "booked",
    "rescheduled",
    "cancelled",
    "arrived",
    "completed",
    "no_show",
)

session_hooks: HookTable[[Session, SessionChange]] = HookTable(
    "booking hook", slots=("courses", "messaging", "questionnaire")
)


def session_changed(*, session: Session, change: SessionChange) -> None:
    """Let every higher app react to `change`, in the table's order. Call inside the booking's
    transaction."""
    if change not in SESSION_CHANGES:
        raise ValueError(f"unknown session change {change!r}")
    session_hooks.call(session, change)


@dataclass(frozen=True)
class FreedTime:
    """Bookable time that has just become free: [starts_at, ends_at) of one practitioner (and
    of a room, when a session held it)."""

    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    room_id: int | None = None


freed_hooks: HookTable[[FreedTime]] = HookTable("freed time hook", slots=("waitlist",))


def time_freed(*, freed: FreedTime) -> None:
    """Let the higher apps react to freed time. Call inside the freeing write's transaction."""
    if freed.ends_at <= freed.starts_at:
        return
    freed_hooks.call(freed)


def session_time_freed(session: Session) -> None:
    """The time a session held (its clean-up buffer included) is free again."""
    time_freed(
        freed=FreedTime(
            practitioner_id=session.practitioner_id,
            starts_at=session.starts_at,
            ends_at=session.blocked_until,
            room_id=session.room_id,
        )
    )
