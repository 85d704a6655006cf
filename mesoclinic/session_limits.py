"""Session limits and no-store: what a shared front-desk computer needs after a sign-in.

SessionLimitsMiddleware keeps two timestamps in the session: when the user signed in and when
they last made a request. A session idle for SESSION_IDLE_MINUTES, or older than
SESSION_MAX_HOURS whatever the activity, is signed out and the user sent to the login page with
a message. The page's warning (static/js/session_timeout.js) reads the time left from data-
attributes and asks `session_status` (which is not activity) before warning, so another tab's
activity counts.

NoStoreMiddleware marks every response to a signed-in user uncacheable, so the back button
after a sign-out shows nothing clinical.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

SIGNED_IN_AT = "mesoclinic_signed_in_at"
LAST_SEEN_AT = "mesoclinic_last_seen_at"


def idle_seconds() -> float:
    return settings.SESSION_IDLE_MINUTES * 60


def max_seconds() -> float:
    return settings.SESSION_MAX_HOURS * 3600


def seconds_left(request: HttpRequest) -> tuple[float, bool]:
    """Seconds until this session ends, and whether activity can push that back."""
    now = time.time()
    session = request.session
    idle_left = session.get(LAST_SEEN_AT, now) + idle_seconds() - now
    max_left = session.get(SIGNED_IN_AT, now) + max_seconds() - now
    return max(0.0, min(idle_left, max_left)), idle_left < max_left


def stamp_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Start the session's clocks at sign-in (connected to user_logged_in, as Django's own
    last_login bookkeeping is): login() is saving the session anyway, so this costs no query."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = request.session[LAST_SEEN_AT] = time.time()


def session_context(request: HttpRequest) -> dict[str, Any]:
    """What the sign-out warning needs (templates/base.html, static/js/session_timeout.js)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"session_seconds_left": None}
    left, extendable = seconds_left(request)
    return {
        "session_seconds_left": int(left),
        "session_extendable": extendable,
        "session_warning_seconds": int(settings.SESSION_WARNING_MINUTES * 60),
    }


def session_touch(request: HttpRequest) -> None:
    """Record activity now (the warning's "Stay signed in")."""
    request.session[LAST_SEEN_AT] = time.time()


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            ended = self._check(request)
            if ended is not None:
                return ended
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        now = time.time()
        session = request.session
        if SIGNED_IN_AT not in session:
            # A session from before these limits existed: its clocks start now.
            session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = now
            return None
        if now - session[SIGNED_IN_AT] >= max_seconds():
            reason = "timeout: maximum"
            text = (
                f"You were signed out: a session lasts at most {settings.SESSION_MAX_HOURS} "
                "hours. Please sign in again."
            )
        elif now - session.get(LAST_SEEN_AT, 0) >= idle_seconds():
            reason = "timeout: idle"
            text = (
                f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes without "
                "activity. Please sign in again."
            )
        else:
            # The warning's status check is not activity. Written at most every few seconds,
            # so a page's burst of requests saves the session once (and reverse() runs only
            # then, not on every request).
            due = now - session[LAST_SEEN_AT] >= min(30.0, idle_seconds() / 20)
            if due and request.path != reverse("session_status"):
                session[LAST_SEEN_AT] = now
            return None
        request.mesoclinic_logout_reason = reason  # type: ignore[attr-defined]
        auth.logout(request)
        messages.info(request, text)
        if request.path == reverse("login"):
            return None  # the warning's own way out: draw the login page, with the message
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(reverse("login"))
        if request.method == "GET":
            return redirect_to_login(request.get_full_path())
        return redirect_to_login(reverse("home"))


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            # max-age=0, no-cache, no-store, must-revalidate, private
            add_never_cache_headers(response)
        return response
