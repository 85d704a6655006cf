"""Thin Celery wrappers. Tasks take ids, never patient details, and are safe to run twice.

Beside each queued send task the dispatcher keeps a marker key in Redis (the broker), expiring
with the lease. If Redis loses its data (restart without persistence, FLUSHDB) the queued tasks
and their markers go together, and the next dispatcher run takes those rows back at once instead
of waiting for the lease: everything is sent again within two dispatcher intervals.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from celery import current_app, shared_task

if TYPE_CHECKING:
    from redis import Redis

MARKER = "mesoclinic:messaging:claim:{}"


def _redis() -> Redis | None:
    return _redis_for(str(current_app.conf.broker_url or ""))


@functools.cache
def _redis_for(url: str) -> Redis | None:
    if not url.startswith(("redis://", "rediss://")):
        return None  # in-memory broker (tests, `make run`): the lease alone covers lost tasks
    import redis

    return redis.Redis.from_url(url)


def _enqueue(ids: list[int], claim: str) -> None:
    from . import conf

    client = _redis()
    if client is not None:
        client.set(MARKER.format(claim), len(ids), ex=conf.lease_seconds())
    send_batch.delay(ids, claim)


def _claims_alive(claims: list[str]) -> set[str]:
    client = _redis()
    if client is None or not claims:
        return set(claims)
    with client.pipeline(transaction=False) as pipe:
        for claim in claims:
            pipe.exists(MARKER.format(claim))
        found = pipe.execute()
    return {claim for claim, exists in zip(claims, found, strict=True) if exists}


@shared_task(name="messaging.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    from .dispatch import messages_dispatch_due

    return messages_dispatch_due(enqueue=_enqueue, claims_alive=_claims_alive)


@shared_task(name="messaging.send_batch", ignore_result=True, acks_late=True)
def send_batch(ids: list[int], claim: str) -> dict[str, int]:
    from .dispatch import messages_dispatch_next, messages_send_batch

    outcomes = messages_send_batch(ids=ids, claim=claim)
    client = _redis()
    if client is not None:
        client.delete(MARKER.format(claim))
    if outcomes.get("sent"):
        messages_dispatch_next(enqueue=_enqueue)
    return outcomes


@shared_task(name="messaging.reap", ignore_result=True)
def reap() -> int:
    from .dispatch import messages_mark_missed, messages_reap_stale

    return messages_reap_stale(claims_alive=_claims_alive) + messages_mark_missed()
