"""Sign-in locks: django-axes' database handler with a separate, higher limit per address.

axes compares one count with one limit (AXES_FAILURE_LIMIT); with the parameters
[[username, ip_address], ip_address] the address count is always at least the (username,
address) count, so one clumsy user would lock every colleague at the same front-desk computer.
This handler keeps axes' recording and cool-off and only changes the comparison: a (username,
address) pair locks at AXES_FAILURE_LIMIT failures, an address (any usernames: a password-spraying
client) at SIGNIN_IP_FAILURE_LIMIT. Works on SQLite and PostgreSQL (rows in axes' AccessAttempt).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class SigninLockHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # Ordered as settings.AXES_LOCKOUT_PARAMETERS: (username, address), then address.
        per_user, per_address = self.get_user_attempts(request, credentials)
        failures = _failures(per_user)
        if _failures(per_address) >= settings.SIGNIN_IP_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures


@dataclass(frozen=True)
class SigninLock:
    username: str  # "" for a lock on the whole address
    ip_address: str
    failures: int
    last_failure: dt.datetime
    lifts_at: dt.datetime


def signin_locks_current() -> list[SigninLock]:
    """The locks in force now: (username, address) pairs first, then whole addresses."""
    cool_off: dt.timedelta = settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
    locks = []
    for fields, limit in (
        (("username", "ip_address"), settings.AXES_FAILURE_LIMIT),
        (("ip_address",), settings.SIGNIN_IP_FAILURE_LIMIT),
    ):
        rows = (
            recent.values(*fields)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        locks += [
            SigninLock(
                username=row.get("username") or "",
                ip_address=row["ip_address"] or "",
                failures=row["failures"],
                last_failure=row["last"],
                lifts_at=row["last"] + cool_off,
            )
            for row in rows
        ]
    return locks
