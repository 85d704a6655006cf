"""One name whatever its case: "Room 1" and "room 1" are one room to a clinic, and so for session
types, protocols and usernames. The database refuses the second (the backstop of the services'
checks, which race tests in test_setup_concurrency.py prove); the manager reads why beside the
name."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse

from treatments.courses.models import Protocol
from treatments.courses.tests.factories import ProtocolFactory
from treatments.models import Room, SessionType
from treatments.tests.factories import RoomFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db


def _refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_the_database_refuses_a_name_that_differs_only_in_case(clinic):
    RoomFactory(name="Room 1")
    SessionTypeFactory(name="Face")
    ProtocolFactory(name="Scalp, six sessions")
    get_user_model().objects.create(username="nia")
    assert _refused(lambda: Room.objects.create(name="ROOM 1"))
    assert _refused(lambda: SessionType.objects.create(name="face", duration_minutes=45))
    assert _refused(
        lambda: Protocol.objects.create(
            name="scalp, SIX sessions",
            indication="hair",
            interval_min_days=14,
            interval_max_days=21,
        )
    )
    assert _refused(lambda: get_user_model().objects.create(username="Nia"))
    # Other names are fine.
    Room.objects.create(name="Room 2")
    get_user_model().objects.create(username="nia2")


def test_a_protocol_name_in_another_case_is_refused_beside_the_name(manager, clinic):
    ProtocolFactory(name="Scalp, six sessions")
    response = manager.post(
        reverse("courses:protocol_create"),
        {
            "name": "SCALP, six sessions",
            "indication": "hair",
            "sessions_count": "6",
            "interval_min_days": "14",
            "interval_max_days": "21",
            "maintenance_interval_days": "90",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["A protocol with this name exists already."]
    }
    assert Protocol.objects.filter(name__iexact="scalp, six sessions").count() == 1


def test_a_room_renamed_to_another_rooms_name_in_another_case_is_refused(manager, clinic):
    RoomFactory(name="Garden")
    other = RoomFactory(name="Terrace")
    url = reverse("treatments:setup_room_edit", args=[other.pk])
    response = manager.post(url, {"name": "garden", "active": "on"})
    assert response.status_code == 200
    assert "There is already a room called “garden”." in response.content.decode()
    other.refresh_from_db()
    assert other.name == "Terrace"
