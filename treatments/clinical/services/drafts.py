"""Autosaved drafts of the session record: what was typed, kept without any check.

A draft is a safety net for typing, not a record: it is not signed, not read by the recall,
the stock or the timeline, and "Save record" (record_save, with every safety rule) is still
what makes the record. So the only rules here are who may keep one and how big it may be.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from treatments.models import Session

from ..errors import ClinicalError, RecordLocked
from ..models import RecordDraft, SessionRecord
from .records import RecordData, record_session_lock, record_sign

MAX_TEXT = 5000


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in RecordData.FIELDS:
        value = data.get(name, [] if name == "zones" else "")
        if name == "zones":
            values = value if isinstance(value, list) else [value]
            clean[name] = [str(v)[:40] for v in values[:40]]
        else:
            clean[name] = str(value)[:MAX_TEXT]
    return clean


def record_draft_save(*, session: Session, by: Any, data: dict[str, Any]) -> RecordDraft:
    """Keep `by`'s form as typed for `session`, replacing their previous draft."""
    with transaction.atomic():
        # Under the lock every write to the record takes first (the session row): a late
        # autosave cannot slip in after the record was signed, nor a signature past a draft.
        session = record_session_lock(session.pk)
        if session.status not in Session.ACTIVE:
            raise ClinicalError(
                f"This session is {session.get_status_display().lower()}; "
                "there is nothing to record."
            )
        record = SessionRecord.objects.filter(session=session).select_related("author").first()
        if record is not None and record.is_signed:
            raise RecordLocked("This record is signed; add an addendum instead.")
        if record is not None and record.author_id != by.pk:
            raise RecordLocked("This record is being written by someone else.")
        draft, created = RecordDraft.objects.update_or_create(
            session=session,
            author=by,
            defaults={"data": _clean(data), "saved_at": timezone.now()},
        )
        audit_log(
            actor=by,
            patient=session.patient,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            obj=draft,
        )
    return draft


def _as_typed(value: Any) -> Any:
    """A saved record's value as the form posts it, to compare with a draft."""
    if isinstance(value, bool):
        return "on" if value else ""
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def record_sign_saved(
    *, record: SessionRecord, by: Any, ended_at: datetime | None = None
) -> SessionRecord:
    """Sign what was saved, but never while `by` has autosaved edits that "Save record" has not
    taken in: the signature would silently leave out what they just typed."""
    with transaction.atomic():
        # The draft is read under the session lock, which an autosave takes too: one that
        # arrives while signing waits, and then finds the record signed.
        record_session_lock(record.session_id)
        record = SessionRecord.objects.get(pk=record.pk)
        draft = RecordDraft.objects.filter(session_id=record.session_id, author_id=by.pk).first()
        if draft is not None and draft.saved_at > record.updated_at:
            for name in RecordData.FIELDS:
                typed = draft.data.get(name, [] if name == "zones" else "")
                typed = typed if isinstance(typed, list) else str(typed).strip()
                if typed != _as_typed(getattr(record, name)):
                    raise ClinicalError(
                        "Your latest edits are kept as a draft but are not in the record yet: "
                        "press “Save record” (its safety checks run), then sign."
                    )
        return record_sign(record=record, by=by, ended_at=ended_at)
