from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest

from mesoclinic.admin_rules import NoDeleteAdmin

from .models import ConsentChange, Patient
from .services import patient_create, patient_update

# What the admin's patient form edits; consents change only on the patient page.
DETAILS = ("first_name", "last_name", "date_of_birth", "email", "phone", "address")


class ConsentChangeInline(admin.TabularInline):
    model = ConsentChange
    extra = 0
    can_delete = False
    fields = ("kind", "given", "at", "recorded_by", "source")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin):
    list_display = ("last_name", "first_name", "date_of_birth", "email", "phone", "created_at")
    search_fields = ("last_name", "first_name", "email", "phone_digits")
    list_filter = ("email_reminders_consent", "marketing_consent")
    date_hierarchy = "created_at"
    # Consents change only through the patient page, which records each change's history.
    readonly_fields = (
        "phone_digits",
        "email_reminders_consent",
        "email_reminders_consent_at",
        "marketing_consent",
        "marketing_consent_at",
        "created_at",
        "updated_at",
        "created_by",
    )
    inlines = [ConsentChangeInline]

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        """Save through the patient services, under the same rules as the patient pages
        (trimmed details, search's copy of the phone number kept in step, who registered)."""
        details = {name: form.cleaned_data[name] for name in DETAILS}
        # The admin site lets in signed-in staff only.
        by = request.user if isinstance(request.user, User) else None
        if change:
            patient_update(patient=obj, by=by, **details)
            return
        # The admin has no "Create anyway" step to answer a possible-duplicate warning with;
        # it adds patients as it always has, and the desk's pages keep the warning.
        created = patient_create(created_by=by, confirm_duplicate=True, source="admin", **details)
        # The admin goes on with `obj` (inlines, the log entry, the redirect): make it that row.
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False


@admin.register(ConsentChange)
class ConsentChangeAdmin(admin.ModelAdmin):
    """The consent history is evidence: it can be read, never edited or deleted."""

    list_display = ("patient", "kind", "given", "at", "recorded_by", "source")
    list_filter = ("kind", "given", "source")
    list_select_related = ("patient", "recorded_by")
    search_fields = ("patient__last_name", "patient__first_name")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
