"""Django admin for support staff. Day-to-day set-up happens in the clinic set-up screens, which
apply the clinic's rules; sessions here are read-only because only the booking service may
create or move them (it is what guarantees no double booking)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import (
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
    WorkingHours,
)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Clinic.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Sessions keep pointing at their room; take a room out of use instead.
        return False


@admin.register(SessionType)
class SessionTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "duration_minutes", "buffer_minutes", "medical_only", "active"]
    list_filter = ["active", "medical_only"]
    search_fields = ["name"]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class WorkingExceptionInline(admin.TabularInline):
    model = WorkingException
    extra = 0


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "user",
        "qualification",
        "registration_body",
        "registration_number",
        "bookable",
    ]
    list_filter = ["qualification", "bookable", "user__is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "registration_number"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [WorkingHoursInline, WorkingExceptionInline]


@admin.register(Session)
class SessionAdmin(NoDeleteAdmin):
    list_display = ["starts_at", "session_type", "practitioner", "room", "status"]
    list_filter = ["status", "session_type", "room"]
    list_select_related = ["session_type", "practitioner__user", "room", "patient"]
    date_hierarchy = "starts_at"
    search_fields = ["patient__last_name", "patient__first_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
