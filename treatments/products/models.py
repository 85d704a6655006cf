"""The product register, its lots (batches) in stock, and what each session used from which lot.

The seed is explicit: a mesotherapy cocktail must be a registered medical device, and the clinic
must be able to answer "which patients received lot X?" the day a manufacturer issues a recall.
Stock is counted in millilitres because that is what a session record states.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower


class Product(models.Model):
    class DeviceClass(models.TextChoices):
        I = "I", "Class I"  # noqa: E741
        IIA = "IIa", "Class IIa"
        IIB = "IIb", "Class IIb"
        III = "III", "Class III"

    name = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120)
    indications = models.TextField(max_length=2000, blank=True)
    registration_body = models.CharField(
        max_length=120,
        blank=True,
        help_text="Who registered it as a medical device (e.g. MHRA, a notified body / CE 2797).",
    )
    device_class = models.CharField(max_length=4, choices=DeviceClass.choices, blank=True)
    registration_number = models.CharField(max_length=80, blank=True)
    # None means the clinic default (LOW_STOCK_DEFAULT_ML in selectors).
    low_stock_threshold_ml = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Warn when usable stock falls below this. Empty: the clinic default.",
    )
    active = models.BooleanField(
        default=True, help_text="Inactive products stay in the register but cannot be used."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "manufacturer", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), Lower("manufacturer"), name="product_name_manufacturer_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.manufacturer})"

    @property
    def is_registered(self) -> bool:
        return bool(self.registration_number.strip() and self.registration_body.strip())

    @property
    def is_usable(self) -> bool:
        return self.active and self.is_registered

    def ingredient_names(self) -> list[str]:
        """Lower-case ingredient names, for matching allergy screening rules.

        Uses prefetched `ingredients` when present, so a list of products stays one query.
        """
        return [ingredient.name.strip().lower() for ingredient in self.ingredients.all()]


class Ingredient(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="ingredients")
    name = models.CharField(max_length=120)
    concentration = models.CharField(max_length=60, blank=True, help_text="e.g. 20 mg/ml")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint("product", Lower("name"), name="ingredient_unique_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.concentration}".strip()


class EvidenceLink(models.Model):
    class Kind(models.TextChoices):
        CLINICAL_TRIAL = "clinical_trial", "Clinical trial"
        WHITE_PAPER = "white_paper", "White paper"
        OTHER = "other", "Other evidence"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CLINICAL_TRIAL)
    url = models.URLField(max_length=500)
    title = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.title or self.url


class Lot(models.Model):
    """A batch of a product received into stock."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=60)
    expiry_date = models.DateField()
    received_on = models.DateField()
    quantity_received_ml = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # Kept in step by lot_use / lot_usage_reverse under a row lock; the check constraint is the
    # backstop that stock never goes negative.
    quantity_remaining_ml = models.DecimalField(max_digits=8, decimal_places=2)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expiry_date", "lot_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"], name="lot_unique_per_product"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_remaining_ml__gte=0)
                & models.Q(quantity_remaining_ml__lte=models.F("quantity_received_ml")),
                name="lot_remaining_within_received",
            ),
        ]
        indexes = [models.Index(fields=["expiry_date"], name="lot_expiry")]

    def __str__(self) -> str:
        return f"{self.product.name} lot {self.lot_number}"


class LotUsage(models.Model):
    """Volume of one lot used in one session: the row a recall reads."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="usages")
    session = models.ForeignKey(
        "treatments.Session", on_delete=models.PROTECT, related_name="lot_usages"
    )
    volume_ml = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(volume_ml__gt=0), name="lot_usage_positive"),
        ]
        indexes = [models.Index(fields=["lot", "session"], name="lot_usage_lot_session")]

    def __str__(self) -> str:
        return f"{self.volume_ml} ml of {self.lot} in session {self.session_id}"
