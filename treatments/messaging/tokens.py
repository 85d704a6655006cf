"""Signed links in patient emails: no login, one purpose each, an expiry, and single use.

A token is `django.core.signing.dumps` (HMAC with SECRET_KEY and a TimestampSigner) of a small
payload. The salt names the action, so a "confirm" token is not a valid "cancel" token. The
payload carries its own expiry (a cancel link dies when the session starts) and the signer's
timestamp caps every link at MESSAGING_LINK_MAX_AGE_DAYS. Using a link records the token's
sha256 in UsedLink in the same transaction as the change it makes: presenting it again, even
concurrently, is refused by the unique index and changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from . import conf
from .models import UsedLink

ACTIONS = (
    "confirm",
    "cancel",
    "reaction",
    "book",
    "unsubscribe",
    "online_verify",
    "questionnaire",
    "waitlist_join",
    "waitlist_offer",
)


class LinkError(Exception):
    title = "This link does not work"
    message = "The link is not valid. Please use the link from your most recent email."
    status = 400


class LinkInvalid(LinkError):
    pass


class LinkExpired(LinkError):
    title = "This link has expired"
    message = "This link is no longer valid. Please call the clinic and we will help you."
    status = 410


class LinkUsed(LinkError):
    title = "This link has already been used"
    message = "This link has already been used, so nothing more was changed."
    status = 410


def _salt(action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    return f"mesoclinic.messaging.link.{action}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_make(*, action: str, payload: dict[str, Any], expires_at: datetime) -> str:
    body = {**payload, "e": int(expires_at.timestamp())}
    return signing.dumps(body, salt=_salt(action), compress=True)


def link_url(*, action: str, payload: dict[str, Any], expires_at: datetime) -> str:
    token = link_make(action=action, payload=payload, expires_at=expires_at)
    return conf.site_url() + reverse(f"messaging:link_{action}", args=[token])


def link_read(*, action: str, token: str, now: datetime | None = None) -> dict[str, Any]:
    """The payload of a valid, unexpired, unused token; raises a LinkError otherwise."""
    now = now or timezone.now()
    if len(token) > 1000:
        raise LinkInvalid()
    try:
        payload = signing.loads(
            token,
            salt=_salt(action),
            max_age=timedelta(days=conf.link_max_age_days()),
        )
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise LinkInvalid() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise LinkInvalid()
    if payload["e"] <= now.timestamp():
        raise LinkExpired()
    if UsedLink.objects.filter(digest=_digest(token)).exists():
        raise LinkUsed()
    return payload


def link_use(*, action: str, token: str, now: datetime | None = None) -> dict[str, Any]:
    """Check the token and record it as used; call inside the transaction that acts on it."""
    payload = link_read(action=action, token=token, now=now)
    try:
        # A savepoint, so a concurrent use of the same token fails here cleanly and the caller's
        # transaction rolls back whatever it was about to change.
        with transaction.atomic():
            UsedLink.objects.create(
                digest=_digest(token), action=action, used_at=now or timezone.now()
            )
    except IntegrityError:
        raise LinkUsed() from None
    return payload
