from django.contrib import admin
from django.http import HttpRequest

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows change only through the services and the dispatcher."""

    list_display = ("id", "kind", "patient", "due_at", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    list_select_related = ("patient",)
    date_hierarchy = "due_at"
    raw_id_fields = ("patient", "session", "course")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False
