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
"""

from __future__ import annotations

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
