"""Shared personas and the clinic every test starts from.

Personas: front desk, practitioner (doctor), therapist (aesthetic, superficial only), manager,
and an outsider (logged in, no role). Each is a logged-in Django test client fixture too.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from django.db import connection
from django.test import Client

from mesoclinic.access import Role
from tests.support.db_role import connected_as_app_role
from tests.support.second_factor import login_verified
from treatments.models import Clinic, OpeningHours, StaffProfile
from treatments.tests.factories import (
    RoomFactory,
    SessionTypeFactory,
    StaffProfileFactory,
    UserFactory,
)

PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(config, items):
    on_postgres = bool(os.environ.get("DATABASE_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


def pytest_sessionfinish(session, exitstatus):
    # In CI nothing may be skipped: a skip there is a gap, so it fails the run.
    if os.environ.get("MESOCLINIC_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"MESOCLINIC_FORBID_SKIPS: {len(skipped)} test(s) skipped; CI runs every test.",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # With MESOCLINIC_DB_APP_ROLE set (CI does), the suite runs as the app's least-privilege
    # PostgreSQL role once the owner has migrated the test database (tests/support/db_role.py).
    with django_db_blocker.unblock(), connected_as_app_role(), django_db_blocker.block():
        yield


@pytest.fixture(autouse=True)
def _fast_test_settings(settings, tmp_path):
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    # Each test counts its own requests against the public links' rate limit (the cache outlives
    # a test, and many tests freeze the clock at the same minute).
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"
    # Tests travel in time (years, with time_machine) with signed-in clients: the session limits
    # would sign them out. tests/test_sessions.py sets the real limits back for its own tests.
    settings.SESSION_IDLE_MINUTES = 10**8
    settings.SESSION_MAX_HOURS = 10**7
    settings.SESSION_COOKIE_AGE = 10**9  # seconds; the stored session's own expiry


@pytest.fixture
def clinic(db) -> Clinic:
    """Europe/London, open every day 08:00-20:00."""
    clinic, _ = Clinic.objects.update_or_create(
        pk=1, defaults={"name": "Test Clinic", "timezone": "Europe/London"}
    )
    for day in range(7):
        OpeningHours.objects.update_or_create(
            weekday=day, defaults={"opens": dt.time(8), "closes": dt.time(20)}
        )
    return clinic


@pytest.fixture
def room(clinic):
    return RoomFactory(name="Room 1")


@pytest.fixture
def room2(clinic):
    return RoomFactory(name="Room 2")


@pytest.fixture
def face(clinic):
    return SessionTypeFactory(name="Face", duration_minutes=45, buffer_minutes=15)


@pytest.fixture
def scalp_superficial(clinic):
    return SessionTypeFactory(
        name="Scalp (superficial)", duration_minutes=30, buffer_minutes=10, medical_only=False
    )


@pytest.fixture
def practitioner_profile(clinic) -> StaffProfile:
    return StaffProfileFactory.create(
        user=UserFactory(
            username="doctor", first_name="Ada", last_name="Doctor", role=Role.PRACTITIONER
        ),
        qualification=StaffProfile.Qualification.DOCTOR,
    )


@pytest.fixture
def therapist_profile(clinic) -> StaffProfile:
    return StaffProfileFactory.create(
        user=UserFactory(
            username="therapist", first_name="Tess", last_name="Therapist", role=Role.THERAPIST
        ),
        qualification=StaffProfile.Qualification.AESTHETIC_THERAPIST,
        registration_body="",
        registration_number="",
    )


@pytest.fixture
def front_desk_user(clinic):
    user = UserFactory(
        username="frontdesk", first_name="Fran", last_name="Desk", role=Role.FRONT_DESK
    )
    StaffProfile.objects.get_or_create(user=user)
    return user


@pytest.fixture
def manager_user(clinic):
    user = UserFactory(username="manager", first_name="Mo", last_name="Manager", role=Role.MANAGER)
    StaffProfile.objects.get_or_create(user=user)
    return user


@pytest.fixture
def outsider_user(clinic):
    return UserFactory(username="outsider", first_name="Otto", last_name="Side")


def _client_for(user) -> Client:
    # Signed in with both factors: the second-factor gate is tested in treatments/accounts/tests.
    return login_verified(Client(), user)


@pytest.fixture
def front_desk(front_desk_user) -> Client:
    return _client_for(front_desk_user)


@pytest.fixture
def practitioner(practitioner_profile) -> Client:
    return _client_for(practitioner_profile.user)


@pytest.fixture
def therapist(therapist_profile) -> Client:
    return _client_for(therapist_profile.user)


@pytest.fixture
def manager(manager_user) -> Client:
    return _client_for(manager_user)


@pytest.fixture
def outsider(outsider_user) -> Client:
    return _client_for(outsider_user)


@pytest.fixture
def admin_client(admin_user) -> Client:
    """pytest-django's superuser client, past the second factor the admin site requires."""
    return login_verified(Client(), admin_user)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
