"""The waiting list's signed links (treatments.messaging.tokens): one home for their payload, so
the email that carries a link and the page that reads it agree."""

from __future__ import annotations

from django.urls import reverse

from treatments.messaging import conf
from treatments.messaging.tokens import link_make

from .models import Entry, Offer

OFFER = "waitlist_offer"
JOIN = "waitlist_join"


def offer_token(offer: Offer) -> str:
    # Dies with the offer: never usable after it expires (or after the slot's start minus notice).
    return link_make(action=OFFER, payload={"o": offer.pk}, expires_at=offer.expires_at)


def offer_url(offer: Offer) -> str:
    return conf.site_url() + reverse("waitlist:offer", args=[offer_token(offer)])


def join_token(entry: Entry) -> str:
    if entry.verify_expires_at is None:
        raise ValueError("only a request from the booking page has a join link")
    return link_make(action=JOIN, payload={"w": entry.pk}, expires_at=entry.verify_expires_at)


def join_url(entry: Entry) -> str:
    return conf.site_url() + reverse("waitlist:join_verify", args=[join_token(entry)])
