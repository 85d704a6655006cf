"""The health questionnaire the patient answers at home, before the visit (issue 11, item 3).

Built from the clinic's screening rules (the same questions, worded for patients). The answers
are *patient-reported*: they never count as a screening. The practitioner sees them pre-filled
in the screening form, confirms or corrects each, and only that screening (taken by a
practitioner) is the clinical record the hard stops read. Until then an absolute
contraindication reported at home blocks the session record (services/records.py) and shows
the desk "see practitioner" (selectors.patients_flags), without saying what.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Questionnaire(models.Model):
    """One questionnaire asked of a patient, for one screening that is missing or will be stale.

    `basis` is the screening the patient had when it was asked (null: none on file). At most one
    is sent per basis (a patient whose screening goes stale is asked once, however many sessions
    they book), and at most one is open at a time.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Sent, not answered yet"
        ANSWERED = "answered", "Answered by the patient, not confirmed"
        REVIEWED = "reviewed", "Confirmed or corrected by a practitioner"
        CANCELLED = "cancelled", "No longer needed"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaires"
    )
    basis = models.ForeignKey(
        "clinical.Screening",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The first booked session it prepares (its message is timed before it).
    session = models.ForeignKey(
        "treatments.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The practitioner's screening that confirmed or corrected the answers.
    screening = models.OneToOneField(
        "clinical.Screening",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaire",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status__in=["open", "answered"]),
                name="questionnaire_one_open_per_patient",
            ),
            # Once per stale screening: a second one for the same basis is never sent.
            models.UniqueConstraint(
                fields=["patient", "basis"],
                condition=~models.Q(status="cancelled"),
                name="questionnaire_once_per_basis",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="answered") | models.Q(answered_at__isnull=False),
                name="questionnaire_answered_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="reviewed")
                | models.Q(
                    answered_at__isnull=False,
                    reviewed_at__isnull=False,
                    screening__isnull=False,
                ),
                name="questionnaire_reviewed_has_screening",
            ),
        ]

    def __str__(self) -> str:
        return f"Questionnaire {self.pk} of patient {self.patient_id} ({self.status})"


class ReportedAnswer(models.Model):
    """One answer the patient gave at home: unconfirmed until a practitioner's screening."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="answers"
    )
    rule = models.ForeignKey("clinical.ScreeningRule", on_delete=models.PROTECT, related_name="+")
    # The wording the patient read, as it was.
    question = models.CharField(max_length=300)
    answer = models.BooleanField()
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["rule__position", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "rule"], name="reported_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {'yes' if self.answer else 'no'} (reported)"
