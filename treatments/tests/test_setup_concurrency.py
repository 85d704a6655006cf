"""Twenty managers saving the same name at the same instant, through the real views; and the
same name typed in different cases ("Garden", "garden"), which is one name to a clinic.

Each thread is its own logged-in client with its own PostgreSQL connection. Exactly one save
wins; the other nineteen get the form back with the message beside the name, never a 500 (the
unique constraint refuses what the services' checks let through, and the service turns it into
the message: mesoclinic.errors.unique_or_field_error).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from tests.support.second_factor import app_device, login_verified
from treatments.courses.models import Protocol
from treatments.models import Room, SessionType

from .test_booking_concurrency import race
from .test_setup_views import GOOD_PASSWORD, staff_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 20


def _posts(user, url: str, data: dict, field: str | None = None) -> list:
    """N managers posting `data` at once; with `field`, each types it in another case
    ("Garden", "garden", "GARDEN", "gARDEN", ...)."""
    app_device(user)  # one authenticator app, made before the threads sign in with it

    def post(payload: dict):
        def send():
            client = Client(raise_request_exception=False)
            login_verified(client, user)
            return client.post(url, payload)

        return send

    if field is None:
        return race([post(data)] * N)
    value = data[field]
    cases = [value, value.lower(), value.upper(), value.swapcase()]
    return race([post({**data, field: cases[i % len(cases)]}) for i in range(N)])


def _one_saved_and_readable_refusals(responses, *messages: str) -> None:
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (N - 1) + [302], codes
    for refused in (r for r in responses if r.status_code == 200):
        text = refused.content.decode()
        assert any(message in text for message in messages), text[:3000]


def test_twenty_managers_creating_one_room_name_get_one_room(manager_user, clinic):
    responses = _posts(manager_user, reverse("treatments:setup_room_create"), {"name": "Garden"})
    _one_saved_and_readable_refusals(responses, "There is already a room called “Garden”.")
    assert Room.objects.filter(name="Garden").count() == 1


def test_twenty_managers_creating_one_session_type_name_get_one(manager_user, clinic):
    responses = _posts(
        manager_user,
        reverse("treatments:setup_session_type_create"),
        {"name": "Neck", "duration_minutes": "30", "buffer_minutes": "10", "active": "on"},
    )
    _one_saved_and_readable_refusals(responses, "There is already a session type called “Neck”.")
    assert SessionType.objects.filter(name="Neck").count() == 1


def test_twenty_managers_creating_one_protocol_name_get_one(manager_user, clinic):
    responses = _posts(
        manager_user,
        reverse("courses:protocol_create"),
        {
            "name": "Scalp, six sessions",
            "indication": "hair",
            "sessions_count": "6",
            "interval_min_days": "14",
            "interval_max_days": "21",
            "maintenance_interval_days": "90",
            "active": "on",
        },
    )
    # The service's check answers those that arrive after the winner committed; the constraint
    # (through the service) those that raced it. Both beside the name.
    _one_saved_and_readable_refusals(responses, "A protocol with this name exists already.")
    assert Protocol.objects.filter(name="Scalp, six sessions").count() == 1


def test_twenty_managers_creating_one_username_get_one_account(manager_user, clinic):
    responses = _posts(manager_user, reverse("treatments:setup_staff_create"), staff_form())
    _one_saved_and_readable_refusals(responses, "The username “nia” is taken.")
    assert get_user_model().objects.filter(username="nia").count() == 1
    assert Client().login(request=HttpRequest(), username="nia", password=GOOD_PASSWORD)


# --- one name whatever its case: "Garden" and "garden" are one room ---------------------------


def test_twenty_managers_creating_one_room_name_in_different_cases_get_one_room(
    manager_user, clinic
):
    url = reverse("treatments:setup_room_create")
    responses = _posts(manager_user, url, {"name": "Garden"}, field="name")
    _one_saved_and_readable_refusals(responses, "There is already a room called")
    assert Room.objects.filter(name__iexact="garden").count() == 1


def test_twenty_managers_creating_one_session_type_name_in_different_cases_get_one(
    manager_user, clinic
):
    responses = _posts(
        manager_user,
        reverse("treatments:setup_session_type_create"),
        {"name": "Neck", "duration_minutes": "30", "buffer_minutes": "10", "active": "on"},
        field="name",
    )
    _one_saved_and_readable_refusals(responses, "There is already a session type called")
    assert SessionType.objects.filter(name__iexact="neck").count() == 1


def test_twenty_managers_creating_one_protocol_name_in_different_cases_get_one(
    manager_user, clinic
):
    responses = _posts(
        manager_user,
        reverse("courses:protocol_create"),
        {
            "name": "Scalp, six sessions",
            "indication": "hair",
            "sessions_count": "6",
            "interval_min_days": "14",
            "interval_max_days": "21",
            "maintenance_interval_days": "90",
            "active": "on",
        },
        field="name",
    )
    _one_saved_and_readable_refusals(responses, "A protocol with this name exists already.")
    assert Protocol.objects.filter(name__iexact="scalp, six sessions").count() == 1


def test_twenty_managers_creating_one_username_in_different_cases_get_one_account(
    manager_user, clinic
):
    responses = _posts(
        manager_user, reverse("treatments:setup_staff_create"), staff_form(), field="username"
    )
    _one_saved_and_readable_refusals(responses, "is taken.")
    assert get_user_model().objects.filter(username__iexact="nia").count() == 1
