from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import ErasureRequest


@admin.register(ErasureRequest)
class ErasureRequestAdmin(NoDeleteAdmin):
    """Read-only: requests are recorded from the patient page, completed by the daily job."""

    list_display = ["patient", "requested_at", "outcome", "retention_until", "completed_at"]
    list_filter = ["outcome"]
    list_select_related = ["patient"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
