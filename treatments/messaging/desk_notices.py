"""What the desk is told about patients' own actions by email link: a cancellation stays on the
desk's Today page until someone acknowledges it (audited); confirmations show in Today's
"Confirmed" column, on the session page and in the calendar.

Reads with a fixed number of queries; the acknowledgement is a conditional UPDATE, so two people
pressing "Seen" at once record one acknowledgement and one audit line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.services import Action, audit_log
from treatments.models import Session

from .models import PatientCancellation

# The Today page lists the newest ones; older unacknowledged ones are counted, not listed.
NOTICES_SHOWN = 20


@dataclass(frozen=True)
class CancellationNotices:
    shown: list[PatientCancellation]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def patient_cancellations_unseen(*, limit: int = NOTICES_SHOWN) -> CancellationNotices:
    """Cancellations by email link that nobody at the desk has acknowledged, newest first. Two
    queries."""
    unseen = PatientCancellation.objects.filter(acknowledged_at__isnull=True)
    shown = list(
        unseen.select_related(
            "session__patient", "session__session_type", "session__practitioner__user"
        ).order_by("-cancelled_at", "-id")[:limit]
    )
    total = len(shown) if len(shown) < limit else unseen.count()
    return CancellationNotices(shown=shown, total=total)


def patient_cancellation_for(*, session: Session) -> PatientCancellation | None:
    """The patient's own cancellation of `session` by link, with who acknowledged it."""
    return (
        PatientCancellation.objects.filter(session=session)
        .select_related("acknowledged_by")
        .first()
    )


def patient_cancellation_acknowledge(
    *, cancellation: PatientCancellation, by: User, now: datetime | None = None
) -> bool:
    """Mark the notice seen. False (and nothing written) if someone already did."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = PatientCancellation.objects.filter(
            pk=cancellation.pk, acknowledged_at__isnull=True
        ).update(acknowledged_at=now, acknowledged_by=by)
        if updated:
            audit_log(
                actor=by,
                patient=cancellation.session.patient,
                action=Action.UPDATE,
                obj=cancellation,
                note="patient cancellation seen",
            )
    return bool(updated)
