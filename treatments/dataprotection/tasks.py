"""Thin Celery wrapper: the daily erasure job (safe to run twice, see the service)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dataprotection.erase_due", ignore_result=True)
def erase_due() -> int:
    from .services import erasures_complete_due

    return erasures_complete_due()
