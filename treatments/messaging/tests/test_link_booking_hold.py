"""A patient with a "do not book" hold cannot book through their nudge link either: a neutral
page asks them to call, nothing is booked, and the link stays usable once the hold is lifted."""

from __future__ import annotations

import importlib
import re

import pytest
import time_machine
from django.apps import apps as django_apps
from django.test import Client

from treatments.clinical.services.holds import booking_hold_lift
from treatments.clinical.tests.factories import make_screening
from treatments.courses.tests.factories import CourseFactory, ProtocolFactory
from treatments.models import Session

from .conftest import london
from .test_course_messages import book_step, complete, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening_rules(db):
    # Seeded by a data migration; a flushed (transactional-test) database needs them again.
    importlib.import_module(
        "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
    ).seed(django_apps, None)


@pytest.fixture
def course(patient, face, practitioner_profile, room):
    protocol = ProtocolFactory(
        name="Skin, two sessions",
        sessions_count=2,
        interval_min_days=14,
        interval_max_days=21,
        maintenance_interval_days=90,
        default_session_type=face,
    )
    return CourseFactory(
        patient=patient, protocol=protocol, practitioner=practitioner_profile, room=room
    )


def test_a_held_patient_is_asked_to_call_and_the_link_stays_unspent(
    course, patient, practitioner_profile, screening_rules
):
    first = book_step(course, 1, london(2026, 6, 1, 10, 0), now=london(2026, 5, 20, 9, 0))
    send(london(2026, 5, 31, 9, 0))
    complete(first, london(2026, 6, 1, 10, 50))
    [nudge] = send(london(2026, 6, 15, 9, 0))
    path = re.search(r"http://127\.0\.0\.1:8000(/m/book/\S+/)", nudge.body).group(1)
    with time_machine.travel(london(2026, 6, 15, 11, 0), tick=False):
        make_screening(patient, practitioner_profile.user, pregnancy="")
    client = Client()
    with time_machine.travel(london(2026, 6, 15, 12, 0), tick=False):
        page = client.get(path).content.decode()
        slot = re.search(r'name="slot" value="([^"]+)"', page).group(1)
        refused = client.post(path, {"slot": slot})
        text = refused.content.decode()
        assert refused.status_code == 200
        assert "We cannot book this session online. Please call the clinic" in text
        # Neutral: no reason, no mention of a practitioner's hold.
        assert "practitioner" not in text.lower() and "pregnan" not in text.lower()
        assert Session.objects.filter(patient=patient).count() == 1
        booking_hold_lift(patient=patient, by=practitioner_profile.user)
        done = client.post(path, {"slot": slot})
    assert "Your session is booked" in done.content.decode()
    assert Session.objects.filter(patient=patient).count() == 2
