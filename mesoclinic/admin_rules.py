"""Shared admin rules. Patients, products, courses and clinical content are never deleted from
the admin: deleting would cascade away consent history or rewrite signed plans, and erasure
has its own rule (treatments.dataprotection: anonymise, keep records through retention)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django hides "delete selected" without the delete permission already; drop it by
        # name too, so a later permission change cannot bring the bulk delete back.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
