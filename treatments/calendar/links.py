"""Addresses into the calendar."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from ..models import Session


def calendar_url(**params: object) -> str:
    """The calendar with these query parameters; empty ones (None, "") are left out."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{reverse('treatments:calendar')}?{urlencode(query)}"


def session_calendar_url(session: Session) -> str:
    """The practitioner's week that holds the session, scrolled to the session."""
    day = timezone.localtime(session.starts_at).date()
    query = urlencode({"view": "week", "date": day, "practitioner": session.practitioner_id})
    return f"{reverse('treatments:calendar')}?{query}#session-{session.pk}"


def next_available_url(**params: object) -> str:
    """The nearest offered starts; empty parameters (None, "") are left out."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{reverse('treatments:next_available')}?{urlencode(query)}"
