from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from patients.tests.factories import PatientFactory
from treatments.services.booking import session_book

LONDON = ZoneInfo("Europe/London")


def london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A wall-clock time in the clinic's zone (Europe/London), as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        first_name="Jane", last_name="Doe", email_reminders_consent=True, marketing_consent=True
    )


@pytest.fixture
def book(clinic, room, face, practitioner_profile, patient):
    """Book through the real booking service at a local time, with the clock frozen at `now`."""

    def _book(starts: dt.datetime, *, now: dt.datetime, who=None):
        with time_machine.travel(now, tick=False):
            return session_book(
                patient=who or patient,
                session_type=face,
                practitioner=practitioner_profile,
                room=room,
                starts_at=starts,
            )

    return _book
