"""The audit trail: one line per view or change of clinical content, never the content itself."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import models

from patients.models import Patient

from ..models import AuditEntry

Action = AuditEntry.Action


def audit_log(
    *,
    actor: User | None,
    patient: Patient | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    ip: str | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one entry. `obj` names the object by its model and id (no text from it)."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id if object_id is not None else obj.pk
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        patient=patient if getattr(patient, "pk", None) else None,
        action=action,
        object_type=(object_type or "")[:40],
        object_id=object_id,
        ip=ip or None,
        note=note[:40],
    )
