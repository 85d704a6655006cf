import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from treatments.online.selectors import free_slots, free_slots_between
from treatments.tests.factories import SessionFactory

from .conftest import DAY, LONDON, START

pytestmark = pytest.mark.django_db


def test_a_week_in_one_read_offers_what_seven_day_reads_offer(online, practitioner_profile):
    for days_later in (0, 2, 5):
        at = START + dt.timedelta(days=days_later, hours=days_later)
        SessionFactory(
            practitioner=practitioner_profile,
            session_type=online,
            starts_at=at,
            ends_at=at + dt.timedelta(minutes=45),
            blocked_until=at + dt.timedelta(minutes=60),
        )
    now = START - dt.timedelta(days=3)
    with CaptureQueriesContext(connection) as week_reads:
        week = free_slots_between(session_type=online, first_day=DAY, days=7, zone=LONDON, now=now)
    by_day = [
        slot
        for d in range(7)
        for slot in free_slots(
            session_type=online, day=DAY + dt.timedelta(days=d), zone=LONDON, now=now
        )
    ]
    assert week == by_day and len(week) > 7 * 40
    assert START not in {s.starts_at for s in week}
    assert len(week_reads) <= 6
