"""Addresses into the calendar."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from ..models import Session


@lru_cache(maxsize=16)
def _calendar_path(urlconf: str, prefix: str) -> str:
    # `prefix` is part of the key only: reverse() reads the current script prefix itself.
    return reverse("treatments:calendar", urlconf=urlconf)


def calendar_url(**params: object) -> str:
    """The calendar with these query parameters; empty ones (None, "") are left out. (A page
    builds about 40 of these: the path is reversed once per URLconf and script prefix.)"""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    path = _calendar_path(str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix())
    return f"{path}?{urlencode(query)}"


def session_calendar_url(session: Session) -> str:
    """The practitioner's week that holds the session, scrolled to the session."""
    day = timezone.localtime(session.starts_at).date()
    query = urlencode({"view": "week", "date": day, "practitioner": session.practitioner_id})
    return f"{reverse('treatments:calendar')}?{query}#session-{session.pk}"


def next_available_url(**params: object) -> str:
    """The nearest offered starts; empty parameters (None, "") are left out."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{reverse('treatments:next_available')}?{urlencode(query)}"
