"""Thin Celery wrappers. Tasks take ids, never patient details, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task


def _enqueue(ids: list[int], claim: str) -> None:
    send_batch.delay(ids, claim)


@shared_task(name="messaging.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    from .dispatch import messages_dispatch_due

    return messages_dispatch_due(enqueue=_enqueue)


@shared_task(name="messaging.send_batch", ignore_result=True, acks_late=True)
def send_batch(ids: list[int], claim: str) -> dict[str, int]:
    from .dispatch import messages_send_batch

    return messages_send_batch(ids=ids, claim=claim)


@shared_task(name="messaging.reap", ignore_result=True)
def reap() -> int:
    from .dispatch import messages_mark_missed, messages_reap_stale

    return messages_reap_stale() + messages_mark_missed()
