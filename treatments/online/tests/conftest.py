import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from treatments.clinic_time import local_to_utc
from treatments.models import Clinic, OnlineBooking

LONDON = ZoneInfo("Europe/London")
DAY = dt.date(2031, 6, 3)  # a Tuesday, far ahead
START = local_to_utc(dt.datetime(2031, 6, 3, 10, 0), LONDON)


@pytest.fixture
def online(clinic, practitioner_profile, room, face):
    """Online booking on ("book at once"); Face is a consultation type open to new patients."""
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.INSTANT)
    face.bookable_online = face.new_patients_online = True
    face.save()
    return face
