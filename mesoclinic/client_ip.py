"""The client's address, for sign-in locks and the audit trail: one rule for both.

REMOTE_ADDR, unless settings.TRUSTED_PROXY_COUNT reverse proxies stand in front of the app: each
appends the address it saw to X-Forwarded-For, so the client is the COUNT-th entry from the
right. Entries further left were written by the client and are never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part]
    if len(forwarded) < proxies:
        # Fewer hops than configured proxies: the header did not come through them all.
        return remote
    return _valid(forwarded[-proxies]) or remote
