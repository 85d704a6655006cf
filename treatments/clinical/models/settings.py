from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ClinicalSettings(models.Model):
    """The clinic's clinical rules of thumb: one row (pk=1), created on first use."""

    # Common practice: a medical history older than a few months must be taken again.
    screening_valid_months = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )

    class Meta:
        verbose_name = verbose_name_plural = "clinical settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="clinical_settings_singleton"),
            models.CheckConstraint(
                condition=models.Q(screening_valid_months__gte=1, screening_valid_months__lte=24),
                name="clinical_settings_screening_months",
            ),
        ]

    def __str__(self) -> str:
        return "Clinical settings"

    @classmethod
    def get(cls) -> ClinicalSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
