"""The audit trail: one line per view, change or export of personal or clinical data, and per
staff or sign-in event; never the content itself.

It sits at the bottom layer so that every app (patients, set-up, booking, clinical) can write it.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models

from .models import AuditEntry

Action = AuditEntry.Action

# Who acted: a signed-in user, or nobody (a patient's link, a job, a failed sign-in).
Actor = AbstractBaseUser | AnonymousUser | None
# The patient concerned. This app sits below `patients`, so it names the row by its model only;
# AuditEntry.patient's foreign key says which model that is.
PatientRow = models.Model | None


def audit_log(
    *,
    actor: Actor,
    patient: PatientRow,
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
        actor_id=actor.pk if isinstance(actor, AbstractBaseUser) else None,
        patient_id=patient.pk if patient is not None else None,
        action=action,
        object_type=(object_type or "")[:40],
        object_id=object_id,
        ip=ip or None,
        note=note[:40],
    )


def audit_export(
    *,
    actor: Actor,
    what: str,
    patient: PatientRow = None,
    obj: models.Model | None = None,
    rows: int | None = None,
) -> AuditEntry:
    """One EXPORT entry for a download of personal data (a CSV, a ZIP): call it once per file.

    `what` names the kind of export ("lot recall CSV", "subject access"); the row count, when
    known, goes in the note so a reader can tell a one-patient file from a whole list.
    """
    note = what if rows is None else f"{what} ({rows} rows)"
    return audit_log(actor=actor, patient=patient, action=Action.EXPORT, obj=obj, note=note)
