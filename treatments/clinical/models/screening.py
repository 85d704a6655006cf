from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import Technique


class ScreeningRule(models.Model):
    """One medical-history question and what a "yes" means for treatment.

    Rules are data so the clinic can adapt them; the defaults (migration 0004) follow common
    practice in aesthetic clinics (DOMAIN.md, "Screening").
    """

    class Severity(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute: treatment cannot go ahead"
        RELATIVE = "relative", "Relative: practitioner accepts the risk with a reason"
        INFO = "info", "Informational"

    class Scope(models.TextChoices):
        ALL = "all", "All treatment"
        TECHNIQUE = "technique", "One technique"
        INGREDIENT = "ingredient", "A product ingredient"

    code = models.SlugField(max_length=60, unique=True)
    question = models.CharField(max_length=300)
    # The question as the patient reads it in the questionnaire sent before the visit (plain
    # words, no jargon); empty means the staff wording above.
    patient_question = models.CharField(max_length=300, blank=True)
    guidance = models.CharField(max_length=300, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.ALL)
    technique = models.CharField(max_length=12, choices=Technique.choices, blank=True)
    # For scope=ingredient: the ingredient that matters (e.g. "lidocaine"); empty means "the
    # ingredients the patient names in the details", matched against the chosen product.
    ingredient = models.CharField(max_length=120, blank=True)
    asks_detail = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="technique") | ~models.Q(technique=""),
                name="screening_rule_technique_named",
            ),
        ]

    def __str__(self) -> str:
        return self.question

    @property
    def patient_wording(self) -> str:
        return self.patient_question or self.question

    def applies(self, *, detail: str, technique: str | None, ingredients: list[str]) -> bool:
        """Whether a "yes" to this rule matters for this technique and these ingredients."""
        if self.scope == self.Scope.ALL:
            return True
        if self.scope == self.Scope.TECHNIQUE:
            return technique == self.technique
        if self.ingredient:
            needle = self.ingredient.strip().lower()
            return any(needle in name for name in ingredients)
        named = detail.lower()
        return any(name and name in named for name in ingredients)


class Screening(models.Model):
    """A medical history taken by a practitioner; immutable, replaced by a newer one."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="screenings"
    )
    taken_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    valid_until = models.DateTimeField()

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["patient", "-taken_at"], name="screening_patient_taken")]

    def __str__(self) -> str:
        return f"Screening {self.pk} of patient {self.patient_id}"

    def is_valid_at(self, when: datetime) -> bool:
        return self.taken_at <= when < self.valid_until


class ScreeningAnswer(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="answers")
    rule = models.ForeignKey(ScreeningRule, on_delete=models.PROTECT, related_name="+")
    # The question as it was asked: later edits to the rule do not rewrite history.
    question = models.CharField(max_length=300)
    answer = models.BooleanField()
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["rule__position", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["screening", "rule"], name="screening_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {'yes' if self.answer else 'no'}"
