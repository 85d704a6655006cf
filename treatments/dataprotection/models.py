"""A patient's request to be erased (GDPR Art. 17) and what became of it.

Health records are an exception to erasure while the clinic must keep them (Art. 17(3)(c) and
(3)(b)); the request is then recorded with the date the retention period ends, and the daily
job (tasks.erase_due) completes it on that date.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ErasureRequest(models.Model):
    class Outcome(models.TextChoices):
        ERASED = "erased", "Erased at once (no clinical record)"
        RETAINED = "retained", "Clinical records kept until the retention period ends"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="erasure_requests"
    )
    requested_at = models.DateTimeField()
    # PROTECT: staff accounts are deactivated, never deleted (as for the audit trail).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    # For RETAINED: the first local day on which the records may go (last treatment + the
    # clinic's retention years); the daily job recomputes it in case of a later treatment.
    retention_until = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # When the patient was anonymised (at once, or by the daily job).
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="retained") | models.Q(retention_until__isnull=False),
                name="erasure_retained_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["retention_until"],
                condition=models.Q(completed_at__isnull=True),
                name="erasure_pending_until",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure request {self.pk} for patient {self.patient_id} ({self.outcome})"
