"""Sign-in events -> the audit trail, through Django's and django-axes' signals.

Signals are used for audit only (they carry no business rule): Django's login, logout and
failed-login signals fire from the staff login, /admin/login/ and the session time-outs alike.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from mesoclinic.client_ip import client_ip

from .signin import (
    signin_audit_failed,
    signin_audit_lockout,
    signin_audit_login,
    signin_audit_logout,
)


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    signin_audit_login(user=user, ip=_ip(request))


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # signing out a session that had no user
        return
    reason = getattr(request, "mesoclinic_logout_reason", "")
    signin_audit_logout(user=user, ip=_ip(request), reason=reason)


def on_login_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already replaced the password in `credentials`; only the username is kept.
    signin_audit_failed(username=str(credentials.get("username") or ""), ip=_ip(request))


def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    # axes sends this for the failure that reaches the limit and again for every attempt
    # refused during the lock; only the first counted the failures (axes_failures_since_start).
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    signin_audit_lockout(username=username or "", ip=ip_address)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="mesoclinic-audit-login")
    user_logged_out.connect(on_logged_out, dispatch_uid="mesoclinic-audit-logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="mesoclinic-audit-login-failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="mesoclinic-audit-lockout")
