import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from patients.tests.factories import PatientFactory
from treatments.clinic_time import local_to_utc
from treatments.services.booking import session_book
from treatments.waitlist.services import Wish, entry_add

LONDON = ZoneInfo("Europe/London")
# Monday 2 June 2031, 08:00 in London: the clinic has just opened.
NOW = dt.datetime(2031, 6, 2, 7, 0, tzinfo=dt.UTC)
DAY = dt.date(2031, 6, 3)
SLOT = local_to_utc(dt.datetime(2031, 6, 3, 10, 0), LONDON)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(frozen, clinic, practitioner_profile, room, face):
    """The session whose cancellation frees the slot: Face (45 + 15 min) at 10:00 tomorrow."""
    return session_book(
        patient=PatientFactory(first_name="Cancel", last_name="Ling"),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=SLOT,
    )


def wish(face, **kwargs):
    values = {
        "session_type": face,
        "practitioner": None,
        "earliest": DAY,
        "latest": DAY + dt.timedelta(days=7),
    }
    values.update(kwargs)
    return Wish(**values)


@pytest.fixture
def waiting(frozen, clinic, face, practitioner_profile):
    """Four patients waiting for a Face session this week, joined a minute apart."""
    entries = []
    for n in range(4):
        frozen.shift(dt.timedelta(minutes=1))
        entries.append(
            entry_add(
                patient=PatientFactory(first_name=f"Wait{n}", last_name="Ing"), wish=wish(face)
            )
        )
    return entries
