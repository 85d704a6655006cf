"""Fail closed: a development configuration never serves a network.

With DEBUG on and the published development SECRET_KEY anyone who can reach the app can read
tracebacks with settings in them and forge sessions and patient links. So in that configuration
every address the app would serve on (ALLOWED_HOSTS at start-up, runserver's and run_clinic's
bind address) must be a loopback one, and a request from elsewhere is refused.

Imported by the settings module: nothing here may read django.conf.settings at import time.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

# Host names that can only mean this machine; "testserver" is Django's test client.
LOOPBACK_NAMES = frozenset({"localhost", "testserver"})

EXPLANATION = (
    "DEBUG is on and SECRET_KEY is the published development key, so mesoclinic serves only "
    "on loopback addresses (127.0.0.1, ::1, localhost). To serve a network, run the production "
    "configuration: set MESOCLINIC_ENV=production with your own SECRET_KEY and ALLOWED_HOSTS "
    "(README, 'Production')."
)


def unsafe_to_expose(*, debug: bool, secret_key: str) -> bool:
    return debug and secret_key == DEVELOPMENT_SECRET_KEY


def is_loopback(host: str) -> bool:
    """A host name or address that can only reach this machine ('' and '*' cannot be sure)."""
    name = host.strip().lower().strip("[]")
    if name.endswith(".localhost") or name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refuse_non_loopback(host: str, *, what: str) -> None:
    if not is_loopback(host):
        raise ImproperlyConfigured(f"Refusing to serve on {what} {host!r}. {EXPLANATION}")
