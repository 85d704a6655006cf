from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone


class ConsentText(models.Model):
    """One version of the treatment consent for a kind of session; never edited once published.

    A change is a new version, and a new version asks every patient for re-consent.
    """

    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=20000)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["session_type", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["session_type", "version"], name="consent_text_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied("A published consent text cannot change; publish a new version.")
        super().save(*args, **kwargs)


class ConsentSignature(models.Model):
    """A patient's signed treatment consent: the exact text they saw, and how they signed it."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="signatures")
    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    title_snapshot = models.CharField(max_length=200)
    text_snapshot = models.TextField(max_length=20000)
    typed_name = models.CharField(max_length=200)
    # PNG of the drawn signature, under MEDIA_ROOT with a random name; served by a checked view.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    signature = models.FileField(upload_to="clinical/signatures/", max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "session_type", "-version"], name="consent_sig_lookup")
        ]

    def __str__(self) -> str:
        return f"Consent v{self.version} of patient {self.patient_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied("A signed consent cannot change.")
        super().save(*args, **kwargs)


class PhotoConsent(models.Model):
    """One decision about photos for one purpose; the latest row per purpose is in force."""

    class Purpose(models.TextChoices):
        CLINICAL = "clinical", "Clinical record"
        TEACHING = "teaching", "Teaching"
        MARKETING = "marketing", "Marketing"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="photo_consents"
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    given = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "purpose", "-at"], name="photo_consent_lookup")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {'given' if self.given else 'withdrawn'}"
