"""Second factor in tests: give a user an authenticator app, compute its codes, verify a client.

Most tests are about something else and sign in with `force_login`; `login_verified` also marks
the session verified with a real confirmed TOTP device, as the code page would after a good code,
and as past the must-change-password check.
The sign-in tests themselves (treatments/accounts/tests/) go through the real pages.
"""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from treatments.accounts.middleware import PASSWORD_CHECKED


def app_device(user) -> TOTPDevice:
    """The user's confirmed authenticator app, created if missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show now for this device (RFC 6238)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def login_verified(client: Client, user) -> Client:
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = app_device(user).persistent_id
    # Past the gates, as after the first page of a real sign-in (no password change due).
    session[PASSWORD_CHECKED] = True
    session.save()
    return client
