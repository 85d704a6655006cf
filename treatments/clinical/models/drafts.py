from __future__ import annotations

from django.conf import settings
from django.db import models


class RecordDraft(models.Model):
    """The record form as last typed, autosaved without any check and never signed.

    Kept apart from SessionRecord so that a half-typed form never passes for a record: the
    record (and everything that reads it: recall, stock, timeline) changes only through the
    checked "Save record". The draft wins on the record page while it is newer than the record.
    """

    session = models.ForeignKey(
        "treatments.Session", on_delete=models.CASCADE, related_name="record_drafts"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The form's fields as posted (strings, and a list for zones), nothing else.
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "author"], name="record_draft_one_per_author"
            )
        ]

    def __str__(self) -> str:
        return f"Record draft for session {self.session_id}"
