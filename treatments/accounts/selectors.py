"""Reads for signing in: who needs a second factor, which devices they have, what is still due."""

from __future__ import annotations

from typing import Protocol, cast

from django.contrib.auth.models import User
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mesoclinic.access import Role, user_roles
from treatments.models import StaffProfile
from treatments.selectors import clinic_get

# Whoever signs clinical records or runs the clinic: ASVS 4.0.3 V2.8, NHS DSPT.
SECOND_FACTOR_ROLES = frozenset({Role.PRACTITIONER, Role.THERAPIST, Role.MANAGER})


def second_factor_required(*, user: User) -> bool:
    """Clinical staff, managers and superusers always; the front desk when the clinic says so."""
    if user.is_superuser:
        return True
    roles = user_roles(user)
    if roles & SECOND_FACTOR_ROLES:
        return True
    return Role.FRONT_DESK in roles and clinic_get().front_desk_second_factor


class _OTPUser(Protocol):
    def is_verified(self) -> bool: ...


def second_factor_verified(*, user: User) -> bool:
    """Whether this sign-in passed the second factor. django-otp's OTPMiddleware gives the
    request's user an `is_verified()` (not in any type information: hence the Protocol)."""
    return cast(_OTPUser, user).is_verified()


def second_factor_enrolled(*, user: User) -> bool:
    """A confirmed authenticator app: recovery codes alone do not count as enrolment."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def password_change_due(*, user: User) -> bool:
    return StaffProfile.objects.filter(user=user, must_change_password=True).exists()
