"""A per-IP rate limit for the pages anyone can reach (the patients' signed email links).

Counting is django-ratelimit's (4.1.0): fixed windows of the configured period in the shared
cache (`CACHES["default"]`: Redis when REDIS_URL is set, so every worker counts together; the
embedded default's LocMemCache counts per process, which is its single process). All public link
URLs share one bucket per address, so hopping between actions buys nothing. Over the limit the
answer is 429 with templates/429.html and Retry-After; nothing runs.

django-ratelimit is used as a library, not listed in INSTALLED_APPS: its app only adds system
checks written before Django had its own Redis cache (they call LocMemCache an error and Django's
RedisCache unsupported), which would break `manage.py check --deploy`'s zero warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django_ratelimit.core import get_usage

GROUP = "public-links"


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 page with its Retry-After header."""
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def over_limit(request: HttpRequest, *, group: str, value: str | None, rate: str) -> int | None:
    """Count one hit for `value` (an email address, say; None: the client's address, read as
    the per-IP limit reads it) in `group`; the seconds to wait if over the limit, else None."""
    key: str | Callable[[str, HttpRequest], str] = (
        "ip" if value is None else (lambda _group, _request: value)
    )
    usage: dict[str, Any] | None = get_usage(
        request, group=group, key=key, rate=rate, increment=True
    )
    if usage is not None and usage["should_limit"]:
        # time_left counts to the window's last second, which still belongs to it.
        return max(1, int(usage["time_left"]) + 1)
    return None


def public_form_over_limits(request: HttpRequest, email: str) -> int | None:
    """The public pages that send mail to a typed address (online booking, joining the waiting
    list) share one budget per client address and one per email: seconds to wait, or None."""
    by_ip = over_limit(request, group="online-ip", value=None, rate=settings.ONLINE_BOOKING_IP_RATE)
    return by_ip or over_limit(
        request,
        group="online-email",
        value=email.strip().lower(),
        rate=settings.ONLINE_BOOKING_EMAIL_RATE,
    )


def rate_limited_per_ip(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Answer 429 once an address has made more than PUBLIC_LINK_RATE_LIMIT such requests."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        wait = over_limit(request, group=GROUP, value=None, rate=settings.PUBLIC_LINK_RATE_LIMIT)
        if wait:
            return too_many(request, wait)
        return view(request, *args, **kwargs)

    return wrapper
