"""The clinic manager's clinical settings: screening rules and how long a screening lasts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from ..errors import ClinicalError
from ..models import ClinicalSettings, ScreeningRule


def _free_code(question: str) -> str:
    base = slugify(question)[:50] or "rule"
    code, n = base, 1
    while ScreeningRule.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def screening_rule_save(
    *, by: User, data: dict[str, Any], rule: ScreeningRule | None = None
) -> ScreeningRule:
    """Create or change a rule. Answers already given keep their question text (snapshots)."""
    for _attempt in range(3):
        target = rule if rule is not None else ScreeningRule()
        try:
            with transaction.atomic():
                if rule is None:
                    target.code = _free_code(data["question"])
                for name, value in data.items():
                    setattr(target, name, value.strip() if isinstance(value, str) else value)
                target.save()
            return target
        except IntegrityError:
            if rule is not None:
                raise
            # Two managers added the same question at once: the unique code made one retry.
            continue
    raise ClinicalError(
        "Another rule was added at the same moment; save this one again.", field="question"
    )


def clinical_settings_update(*, by: User, screening_valid_months: int) -> ClinicalSettings:
    if not 1 <= screening_valid_months <= 24:
        raise ClinicalError("Choose between 1 and 24 months.", field="screening_valid_months")
    row = ClinicalSettings.get()
    row.screening_valid_months = screening_valid_months
    row.save(update_fields=["screening_valid_months"])
    return row
