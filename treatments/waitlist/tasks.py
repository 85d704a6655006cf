"""Thin Celery wrapper: the waiting list's periodic tick (safe to run twice)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="waitlist.tick", ignore_result=True)
def tick() -> dict[str, int]:
    from .services import offers_tick

    return offers_tick()
