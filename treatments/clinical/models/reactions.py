from __future__ import annotations

from django.conf import settings
from django.db import models

from .choices import Severity


class Reaction(models.Model):
    """An adverse event after a session (and so against its product lots)."""

    class Type(models.TextChoices):
        BRUISING = "bruising", "Bruising"
        SWELLING = "swelling", "Swelling"
        REDNESS = "redness", "Redness"
        PAIN = "pain", "Pain"
        ITCHING = "itching", "Itching"
        INFECTION = "infection", "Infection"
        NODULES = "nodules", "Nodules / granuloma"
        ALLERGIC = "allergic", "Allergic reaction"
        NECROSIS = "necrosis", "Skin necrosis"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        PATIENT = "patient", "Patient self-report"

    session = models.ForeignKey(
        "treatments.Session", on_delete=models.PROTECT, related_name="reactions"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=12, choices=Type.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset = models.DateTimeField()
    description = models.CharField(max_length=1000, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)
    action_taken = models.CharField(max_length=1000, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # A severe reaction stays on the clinical dashboard until a practitioner acknowledges it.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-onset", "-id"]
        indexes = [
            models.Index(fields=["severity", "recorded_at"], name="reaction_severity_recorded"),
            models.Index(fields=["patient", "-onset"], name="reaction_patient_onset"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.get_severity_display()})"
