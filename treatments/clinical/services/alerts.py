"""A severe reaction reaches a person: one email to each practitioner on duty, through the outbox.

Written in the transaction that records (or raises to severe) the reaction, so a report that
rolls back alerts no one, and the dispatcher sends each row once, due at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from treatments.messaging.models import Kind, OutboxMessage
from treatments.messaging.outbox import staff_alert_schedule

from ..models import Reaction, Severity
from ..selectors import practitioners_to_alert

log = logging.getLogger(__name__)


def reaction_alerts_schedule(
    *, reaction: Reaction, now: datetime | None = None
) -> list[OutboxMessage]:
    """Schedule the severe-reaction alert for every practitioner on duty today (or, when no one
    is, every active practitioner: see `practitioners_to_alert`). Nothing for a mild or moderate
    reaction; a person already alerted about this reaction is not alerted again."""
    if reaction.severity != Severity.SEVERE:
        return []
    now = now or timezone.now()
    staff, on_duty = practitioners_to_alert(now=now)
    if not on_duty:
        log.warning(
            "severe reaction %s: no practitioner on duty today; alerting all %s active ones",
            reaction.pk,
            len(staff),
        )
    if not staff:
        log.error("severe reaction %s: there is no active practitioner to alert", reaction.pk)
    return [
        staff_alert_schedule(
            kind=Kind.SEVERE_REACTION_ALERT,
            patient=reaction.patient,
            staff_user=profile.user,
            reaction_id=reaction.pk,
            now=now,
        )
        for profile in staff
    ]
