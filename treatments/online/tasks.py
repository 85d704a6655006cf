"""Thin Celery wrapper: online booking's periodic tick (safe to run twice)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="online.lapse", ignore_result=True)
def lapse() -> int:
    from .services import online_requests_lapse

    return online_requests_lapse()
