"""After the password, two more gates before any page: the second factor, then a new password.

A signed-in user who needs a second factor (treatments.accounts.selectors.second_factor_required)
and has no app yet is sent to enrolment; anyone with an app is sent to the code page until the
session is verified (django-otp's OTPMiddleware, installed before this one, says so). Once past
that, a user whose password was set by a manager is sent to change it. Public views (login,
logout, password reset, patients' links) and the gates' own pages stay reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from mesoclinic.access import PUBLIC

from .selectors import (
    password_change_due,
    second_factor_enrolled,
    second_factor_required,
    second_factor_verified,
)

# The session's own bookkeeping (time left, stay signed in) answers JSON on every page,
# the code page included; it shows nothing of the clinic.
BEFORE_SECOND_FACTOR = frozenset(
    {
        "accounts:second_factor_enrol",
        "accounts:second_factor_verify",
        "logout",
        "session_status",
        "session_extend",
    }
)
BEFORE_PASSWORD = BEFORE_SECOND_FACTOR | {"password_change", "password_change_done"}
# Set once the session is known to need no password change: a manager setting a new password
# changes the session hash and so ends every session of that user anyway.
PASSWORD_CHECKED = "accounts_password_checked"  # noqa: S105 (a session key, not a secret)


def _go(request: HttpRequest, url_name: str) -> HttpResponse:
    url = reverse(url_name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request"):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class AccountGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or getattr(view_func, "access_roles", None) == PUBLIC:
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in BEFORE_SECOND_FACTOR:
            return None
        if not second_factor_verified(user=user):
            if second_factor_enrolled(user=user):
                return _go(request, "accounts:second_factor_verify")
            if second_factor_required(user=user):
                return _go(request, "accounts:second_factor_enrol")
        if name in BEFORE_PASSWORD or request.session.get(PASSWORD_CHECKED):
            return None
        if password_change_due(user=user):
            messages.info(request, "Your password was set by a manager: choose your own now.")
            return redirect("password_change")
        request.session[PASSWORD_CHECKED] = True
        return None
