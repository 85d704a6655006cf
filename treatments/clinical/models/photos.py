from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .choices import Zone


class ClinicalPhoto(models.Model):
    """A before/after photo; the file sits under MEDIA_ROOT with a random name, EXIF stripped."""

    class Stage(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"

    class View(models.TextChoices):
        FRONTAL = "frontal", "Frontal"
        OBLIQUE = "oblique", "Oblique"
        LATERAL = "lateral", "Lateral"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="clinical_photos"
    )
    session = models.ForeignKey(
        "treatments.Session", on_delete=models.PROTECT, related_name="clinical_photos"
    )
    stage = models.CharField(max_length=8, choices=Stage.choices)
    zone = models.CharField(max_length=16, choices=Zone.choices)
    view = models.CharField(max_length=8, choices=View.choices)
    # The URL names the photo by this random key, never by its sequential id.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image = models.FileField(upload_to="clinical/photos/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    taken_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [
            models.Index(fields=["patient", "zone", "taken_at"], name="photo_patient_zone"),
        ]

    def __str__(self) -> str:
        return f"Photo {self.pk}"
