"""Messaging settings: Django settings first (tests override them), then the environment.

Read at call time, not import time, so `settings.MESSAGING_...` overrides in tests take effect.
The environment names are the same as the settings names (e.g. MESSAGING_DISPATCH_INTERVAL=2).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def dispatch_interval() -> int:
    """Seconds between dispatcher runs (beat and `make run`): 60 in production."""
    return _int("MESSAGING_DISPATCH_INTERVAL", 60)


def lease_seconds() -> int:
    # A claimed row not sent within (about) one interval is taken back by the next run. So if Redis
    # loses the queued send tasks (restart, FLUSHDB), everything goes out again within two
    # dispatcher intervals; a stale task that turns up later holds an old claim and sends nothing.
    # 90% of the interval, so the next tick after a loss is past the lease even with jitter.
    return _int("MESSAGING_LEASE_SECONDS", max(1, round(dispatch_interval() * 0.9)))


def batch_size() -> int:
    """Rows per send task; one SMTP connection per batch."""
    return _int("MESSAGING_BATCH_SIZE", 50)


def max_in_flight() -> int:
    # Backpressure: claim no more than the workers can send within one lease, so queued batches
    # are not reaped before a worker reaches them.
    return _int("MESSAGING_MAX_IN_FLIGHT", 500)


def max_attempts() -> int:
    return _int("MESSAGING_MAX_ATTEMPTS", 5)


def preparation_days() -> int:
    """Preparation advice goes this many calendar days before the session (clinic setting)."""
    return _int("MESSAGING_PREPARATION_DAYS", 3)


def send_hour() -> int:
    """Local hour (clinic zone) at which preparation and day-before reminders go out."""
    return _int("MESSAGING_SEND_HOUR", 9)


def cancel_notice_hours() -> int:
    """A patient may cancel through the email link up to this many hours before the start."""
    return _int("MESSAGING_CANCEL_NOTICE_HOURS", 24)


def link_max_age_days() -> int:
    """No signed link lives longer than this, whatever it is for."""
    return _int("MESSAGING_LINK_MAX_AGE_DAYS", 60)


def questionnaire_days() -> int:
    """The health questionnaire goes this many days before the session it prepares (at once
    when the session is booked closer than that)."""
    return _int("MESSAGING_QUESTIONNAIRE_DAYS", 7)


def questionnaire_link_days() -> int:
    """A questionnaire link works this many days after it was sent (and until answered)."""
    return _int("MESSAGING_QUESTIONNAIRE_LINK_DAYS", 30)


def follow_up_repeat_days() -> int:
    """The second follow-up nudge goes this many days after the first if still unbooked."""
    return _int("MESSAGING_FOLLOW_UP_REPEAT_DAYS", 7)


def site_url() -> str:
    """Absolute base of links in emails, e.g. https://clinic.example.com."""
    value = getattr(settings, "MESSAGING_SITE_URL", None) or os.environ.get(
        "SITE_URL", "http://127.0.0.1:8000"
    )
    return value.rstrip("/")
