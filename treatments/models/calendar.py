from __future__ import annotations

from django.db import models


class CalendarVersion(models.Model):
    """One row whose `version` changes with anything the calendar grid shows.

    Database triggers (migration 0005) change it on every insert, update or delete of sessions,
    working hours, exceptions, opening hours, rooms, staff, session types, the clinic, user names
    and patient names, so cached calendar fragments keyed on it can never be served stale,
    whoever writes (services, admin, shell, raw SQL). `epoch` is drawn at random when the row is
    created, so a recreated database (tests, restores) never reuses an old key.
    """

    epoch = models.BigIntegerField()
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="calendar_version_one_row")
        ]

    def __str__(self) -> str:
        return f"calendar version {self.epoch}.{self.version}"
