"""Reading the audit trail: filtered, newest first, names joined in the same query."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from .models import AuditEntry


def local_day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Midnight at the start of `day` on the clinic's wall clock, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def audit_entries(
    *,
    actor_id: int | None = None,
    patient_id: int | None = None,
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    zone: ZoneInfo,
) -> QuerySet[AuditEntry]:
    """Entries matching every filter given. Dates are whole days in `zone`, both included."""
    entries = AuditEntry.objects.select_related("actor", "patient").order_by("-at", "-id")
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    if action:
        entries = entries.filter(action=action)
    if date_from is not None:
        entries = entries.filter(at__gte=local_day_start(date_from, zone))
    if date_to is not None:
        # Up to the next local midnight: a day is 23 or 25 hours long across a clock change.
        entries = entries.filter(at__lt=local_day_start(date_to + dt.timedelta(days=1), zone))
    return entries
