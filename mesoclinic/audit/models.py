from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models


class AuditQuerySet(models.QuerySet):
    # The audit trail is append-only: bulk edits through the ORM are refused as well as single
    # ones. PostgreSQL triggers are the backstop for raw SQL (UPDATE and DELETE: clinical
    # migration 0002; TRUNCATE: audit migration 0002), and the app's own database role may only
    # INSERT and SELECT here (`manage.py db_app_role`).
    def update(self, **kwargs: Any) -> int:
        raise PermissionDenied("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """Who did what to which patient's data or to which staff account, and when.

    Never any clinical text. The table keeps its first name (it began in the clinical app).
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        SIGN = "sign", "Signed"
        ADDENDUM = "addendum", "Added an addendum"
        WITHDRAW = "withdraw", "Withdrew"
        DOWNLOAD = "download", "Opened file"
        REFUSED = "refused", "Refused by a safety rule"
        # Sign-in and account events (no secrets: never a password, code or token).
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        LOCKOUT = "lockout", "Locked out"
        UNLOCK = "unlock", "Unlocked a sign-in lock"
        LOGOUT = "logout", "Signed out"
        PASSWORD_CHANGE = "password_change", "Changed a password"
        PASSWORD_RESET = "password_reset", "Reset a password"
        MFA_ENROL = "mfa_enrol", "Enrolled a second factor"
        MFA_RESET = "mfa_reset", "Reset a second factor"
        # Administration and data-protection events.
        STAFF_CHANGE = "staff_change", "Changed staff, role or qualification"
        EXPORT = "export", "Exported data"
        ERASURE = "erasure", "Erased or anonymised"
        ACKNOWLEDGE = "acknowledge", "Acknowledged"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: staff accounts are deactivated, never deleted, so the trail keeps its names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True)
    # Where the request came from, for sign-in and account events; and a short non-clinical
    # note (the username tried at a failed sign-in, the kind of export). Never clinical text.
    ip = models.GenericIPAddressField(null=True, blank=True)
    note = models.CharField(max_length=40, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        db_table = "clinical_auditentry"
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["patient", "-at"], name="audit_patient_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("Audit entries cannot be deleted.")
