"""Sign-in events in the audit trail, and a manager lifting a sign-in lock.

The audit functions are called by the receivers in mesoclinic/audit/signin_receivers.py (Django's
and django-axes' sign-in signals); they record who, from where and when, never a password.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from mesoclinic.errors import DomainError

from .models import AuditEntry
from .services import audit_log

Action = AuditEntry.Action


def _account(username: str) -> AbstractBaseUser | None:
    """The account a username names, if any (for the trail only, never shown to the client)."""
    if not username:
        return None
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()


def _account_event(
    action: str, *, actor: AbstractBaseUser | None, ip: str | None, note: str = ""
) -> None:
    """One sign-in event about `actor`'s account (None: a username that names no account)."""
    audit_log(
        actor=actor,
        patient=None,
        action=action,
        object_type="user",
        object_id=actor.pk if actor is not None else None,
        ip=ip,
        note=note,
    )


def signin_audit_login(*, user: AbstractBaseUser, ip: str | None) -> None:
    _account_event(Action.LOGIN, actor=user, ip=ip)


def signin_audit_logout(*, user: AbstractBaseUser, ip: str | None, reason: str = "") -> None:
    _account_event(Action.LOGOUT, actor=user, ip=ip, note=reason)


def signin_audit_failed(*, username: str, ip: str | None) -> None:
    """A refused sign-in; the note is the username tried (truncated), never the password."""
    _account_event(Action.LOGIN_FAILED, actor=_account(username), ip=ip, note=username)


def signin_audit_lockout(*, username: str, ip: str | None) -> None:
    _account_event(Action.LOCKOUT, actor=_account(username), ip=ip, note=username)


def signin_unlock(
    *, by: AbstractBaseUser, username: str, ip_address: str, from_ip: str | None
) -> int:
    """Lift the lock on `username` from `ip_address` (or, with no username, on the whole address).

    Returns how many failure records were cleared; refuses when there is nothing to lift.
    """
    with transaction.atomic():
        cleared = AxesProxyHandler.reset_attempts(ip_address=ip_address, username=username or None)
        if not cleared:
            raise DomainError("There is no lock on that sign-in any more: it may have lifted.")
        account = _account(username)
        audit_log(
            actor=by,
            patient=None,
            action=Action.UNLOCK,
            object_type="user",
            object_id=account.pk if account else None,
            ip=from_ip,
            note=username or f"address {ip_address}",
        )
    return cleared
