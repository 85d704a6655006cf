"""Course messages: follow-up nudges, maintenance nudges, course completed (built on the
courses app, treatments.courses)."""

from __future__ import annotations

from datetime import datetime

from treatments.models import Session

from .models import OutboxMessage


def messages_on_course_session_change(*, session: Session, change: str, now: datetime) -> None:
    return None


def course_message_applies(message: OutboxMessage) -> bool:
    return False
