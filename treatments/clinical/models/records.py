from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .choices import Depth, Technique, Zone


class SessionRecord(models.Model):
    """What was done in one session, by whom, with what. Signing locks it."""

    session = models.OneToOneField(
        "treatments.Session", on_delete=models.PROTECT, related_name="clinical_record"
    )
    # Copied from the session so a patient's timeline is one indexed query.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="session_records"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Pre-session checklist.
    screening = models.ForeignKey(
        "clinical.Screening", null=True, on_delete=models.PROTECT, related_name="+"
    )
    screening_reconfirmed = models.BooleanField(
        default=False, help_text="The patient confirmed nothing has changed since the screening."
    )
    consent = models.ForeignKey(
        "clinical.ConsentSignature", null=True, on_delete=models.PROTECT, related_name="+"
    )
    area_cleansed = models.BooleanField(default=False)
    photos_taken = models.BooleanField(default=False)

    technique = models.CharField(max_length=12, choices=Technique.choices)
    depth = models.CharField(max_length=12, choices=Depth.choices)
    # Seed: injections about 1 cm apart.
    spacing_mm = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    zones = models.JSONField(default=list)

    anaesthetic_used = models.BooleanField(default=False)
    anaesthetic_product = models.CharField(max_length=120, blank=True)
    anaesthetic_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(180)]
    )

    # Seed: mesotherapy combines with laser, microneedling and chemical peels; say when.
    laser_on = models.DateField(null=True, blank=True)
    microneedling_on = models.DateField(null=True, blank=True)
    peel_on = models.DateField(null=True, blank=True)

    reactions_none = models.BooleanField(default=False)
    immediate_reactions = models.CharField(max_length=1000, blank=True)
    # Why the practitioner accepts the risk of the relative contraindications that apply.
    risk_reason = models.CharField(max_length=1000, blank=True)
    notes = models.TextField(max_length=5000, blank=True)

    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(spacing_mm__gte=1, spacing_mm__lte=50),
                name="session_record_spacing_range",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="session_record_signed_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"Clinical record of session {self.session_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def zone_labels(self) -> list[str]:
        labels = dict(Zone.choices)
        return [labels.get(zone, zone) for zone in self.zones]


class Consultation(models.Model):
    class Concern(models.TextChoices):
        REJUVENATION = "rejuvenation", "Skin rejuvenation / hydration"
        FINE_LINES = "fine_lines", "Fine lines"
        PIGMENTATION = "pigmentation", "Pigmentation"
        HAIR_LOSS = "hair_loss", "Hair loss"
        LOCALISED_FAT = "localised_fat", "Localised fat"
        CELLULITE = "cellulite", "Cellulite"
        OTHER = "other", "Other"

    class SkinType(models.TextChoices):
        NORMAL = "normal", "Normal"
        DRY = "dry", "Dry"
        OILY = "oily", "Oily"
        COMBINATION = "combination", "Combination"
        SENSITIVE = "sensitive", "Sensitive"

    class Fitzpatrick(models.IntegerChoices):
        I = 1, "I"  # noqa: E741
        II = 2, "II"
        III = 3, "III"
        IV = 4, "IV"
        V = 5, "V"
        VI = 6, "VI"

    class Level(models.TextChoices):
        LOW = "low", "Low"
        MODERATE = "moderate", "Moderate"
        HIGH = "high", "High"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consultations"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    concerns = models.JSONField(default=list)
    concerns_other = models.CharField(max_length=200, blank=True)
    goals = models.TextField(max_length=2000, blank=True)

    skin_type = models.CharField(max_length=12, choices=SkinType.choices)
    fitzpatrick = models.PositiveSmallIntegerField(choices=Fitzpatrick.choices)
    hydration = models.CharField(max_length=10, choices=Level.choices)
    elasticity = models.CharField(max_length=10, choices=Level.choices)
    sensitivity = models.CharField(max_length=10, choices=Level.choices)
    skin_notes = models.TextField(max_length=2000, blank=True)

    risks_explained = models.BooleanField(default=False)
    risks_notes = models.TextField(max_length=2000, blank=True)

    recommendation = models.TextField(max_length=2000, blank=True)
    plan_zones = models.JSONField(default=list)
    plan_products = models.ManyToManyField(
        "products.Product", blank=True, related_name="+", through="ConsultationPlanProduct"
    )
    plan_protocol = models.TextField(max_length=2000, blank=True)
    plan_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )

    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fitzpatrick__gte=1, fitzpatrick__lte=6),
                name="consultation_fitzpatrick_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation {self.pk} of patient {self.patient_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def concern_labels(self) -> list[str]:
        labels = dict(self.Concern.choices)
        return [labels.get(c, c) for c in self.concerns]

    def plan_zone_labels(self) -> list[str]:
        labels = dict(Zone.choices)
        return [labels.get(z, z) for z in self.plan_zones]


class ConsultationPlanProduct(models.Model):
    """A product named in a consultation's treatment plan.

    PROTECT: deleting a product must never rewrite a plan (a signed one above all) after the
    fact; retire a product by unticking "active". Same table as the former implicit M2M.
    """

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "clinical_consultation_plan_products"
        unique_together = [("consultation", "product")]

    def __str__(self) -> str:
        return f"Product {self.product_id} in consultation {self.consultation_id}"


class Addendum(models.Model):
    """A dated correction to a signed consultation or record, by its author; never edited."""

    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    record = models.ForeignKey(
        SessionRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(max_length=5000)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "addenda"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consultation__isnull=True, record__isnull=False)
                | models.Q(consultation__isnull=False, record__isnull=True),
                name="addendum_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.pk}"
