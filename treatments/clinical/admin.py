from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import ClinicalSettings, ConsentText, ScreeningRule


@admin.register(ClinicalSettings)
class ClinicalSettingsAdmin(NoDeleteAdmin):
    list_display = ["__str__", "screening_valid_months"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ClinicalSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(NoDeleteAdmin):
    list_display = ["question", "severity", "scope", "technique", "ingredient", "active"]
    list_filter = ["severity", "scope", "active"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Answers point at their rule; retire a rule by unticking "active".
        return False


@admin.register(ConsentText)
class ConsentTextAdmin(NoDeleteAdmin):
    """Read-only: new versions are published from the clinic's consent-texts page."""

    list_display = ["session_type", "version", "title", "published_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
