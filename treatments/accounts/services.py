"""Writes for signing in: second-factor enrolment, verification and reset; password changes.

The codes are django-otp's: a TOTP device (RFC 6238, 30 s steps) refuses a code it has already
accepted (it remembers the last time step used, `last_t`) and slows down after failures; a static
device holds the recovery codes and deletes each one as it is used. Every enrolment, reset and
password change writes one audit entry: who, from which address, when; never a code or a secret.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError
from treatments.models import StaffProfile

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
WRONG_CODE = (
    "That code is not right, or it has been used already. Type the 6 digits your authenticator "
    "app shows now, or one of your recovery codes."
)


def _audit_user(*, action: str, user: User, by: User, ip: str | None) -> None:
    audit_log(actor=by, patient=None, action=action, object_type="user", object_id=user.pk, ip=ip)


def _clean_code(code: str) -> str:
    return "".join(code.split()).lower()


@transaction.atomic
def second_factor_enrol_start(*, user: User) -> TOTPDevice:
    """The device being set up: one unconfirmed app device, kept until confirmed or reset."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise DomainError("Two-factor authentication is already set up for this account.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def second_factor_enrol_confirm(
    *, user: User, code: str, ip: str | None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app with a code it shows; returns the device and the new recovery codes,
    which are shown once and never again."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise DomainError("Two-factor authentication is already set up for this account.")
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise DomainError("This set-up has expired: start again.", field="code")
        # A wrong code must still count towards the device's throttle: commit, then refuse.
        accepted = device.verify_token(_clean_code(code))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            StaticDevice.objects.filter(user=user).delete()
            recovery = StaticDevice.objects.create(
                user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
            )
            codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
            StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
            _audit_user(action=AuditEntry.Action.MFA_ENROL, user=user, by=user, ip=ip)
    if not accepted:
        raise DomainError(WRONG_CODE, field="code")
    return device, codes


def second_factor_verify(*, user: User, code: str) -> Device:
    """The device that accepts `code`: six digits go to the app, anything else is tried as a
    recovery code (used up when accepted). Only the device asked counts a failure."""
    code = _clean_code(code)
    kind: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        # Row locks: two requests with the same code cannot both get past `last_t`.
        devices = kind.objects.select_for_update().filter(user=user, confirmed=True)
        accepted = next((d for d in devices if d.verify_token(code)), None)
    if accepted is None:
        raise DomainError(WRONG_CODE, field="code")
    return accepted


@transaction.atomic
def second_factor_reset(*, user: User, by: User, ip: str | None) -> None:
    """A manager removes someone's app and recovery codes; they enrol again at next sign-in.
    A session verified with a removed device stops being verified at its next request."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_user(action=AuditEntry.Action.MFA_RESET, user=user, by=by, ip=ip)


@transaction.atomic
def password_changed(*, user: User, ip: str | None, reset: bool) -> None:
    """The person chose their own password (changed while signed in, or by an emailed link)."""
    StaffProfile.objects.filter(user=user, must_change_password=True).update(
        must_change_password=False
    )
    action = AuditEntry.Action.PASSWORD_RESET if reset else AuditEntry.Action.PASSWORD_CHANGE
    _audit_user(action=action, user=user, by=user, ip=ip)
