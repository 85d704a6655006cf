"""Deactivating a staff member or a room asks for confirmation: the page says what will happen, and
only a POST carrying that page's token acts. A bare POST (a form elsewhere, an old page, a replay
for someone else) changes nothing and answers with the confirmation page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mesoclinic.access import Role
from mesoclinic.confirm import confirm_token
from treatments.models import Room, StaffProfile
from treatments.tests.factories import RoomFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def room_url(room: Room) -> str:
    return reverse("treatments:setup_room_deactivate", args=[room.pk])


def staff_url(staff: StaffProfile) -> str:
    return reverse("treatments:setup_staff_deactivate", args=[staff.pk])


def page_token(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["token"]


def is_active(obj: Room | StaffProfile) -> bool:
    obj.refresh_from_db()
    if isinstance(obj, Room):
        return obj.active
    obj.user.refresh_from_db()
    return obj.user.is_active


@pytest.fixture(params=["room", "staff"])
def target(request, room, practitioner_profile):
    """Either kind of deactivation: (object, its confirmation URL, the action's name)."""
    if request.param == "room":
        return room, room_url(room), "room_deactivate"
    return practitioner_profile, staff_url(practitioner_profile), "staff_deactivate"


def test_the_room_page_says_what_will_happen_and_changes_nothing(manager, room):
    SessionFactory(room=room, starts_at=timezone.now() - dt.timedelta(days=3))
    response = manager.get(room_url(room))
    page = response.content.decode()
    assert "Take “Room 1” out of use?" in page
    assert "can no longer be booked" in page
    assert "1 other session on record" in page
    assert 'name="confirm"' in page
    assert is_active(room)


def test_the_staff_page_says_what_will_happen_and_changes_nothing(manager, practitioner_profile):
    page = manager.get(staff_url(practitioner_profile)).content.decode()
    assert "Deactivate Ada Doctor?" in page
    assert "can no longer log in as <code>doctor</code>" in page
    assert "clinical records and signatures stay" in page
    assert is_active(practitioner_profile)


def test_the_list_pages_link_to_the_confirmation_instead_of_posting(
    manager, room, practitioner_profile
):
    rooms = manager.get(reverse("treatments:setup_rooms")).content.decode()
    staff = manager.get(reverse("treatments:setup_staff")).content.decode()
    assert f'href="{room_url(room)}"' in rooms
    assert f'href="{staff_url(practitioner_profile)}"' in staff
    assert f'action="{room_url(room)}"' not in rooms
    assert f'action="{staff_url(practitioner_profile)}"' not in staff


@pytest.mark.parametrize(
    "data", [{}, {"confirm": ""}, {"confirm": "yes"}, {"confirm": "x" * 5000}, {"active": "off"}]
)
def test_a_bare_post_changes_nothing_and_shows_the_confirmation_page(manager, target, data):
    obj, url, _ = target
    response = manager.post(url, data)
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()
    assert response.context["token"]
    assert is_active(obj)


def test_the_pages_token_deactivates(manager, target):
    obj, url, _ = target
    response = manager.post(url, {"confirm": page_token(manager, url)})
    assert response.status_code == 302
    assert not is_active(obj)


def test_a_token_for_another_object_action_or_manager_changes_nothing(
    manager, manager_user, target
):
    obj, url, action = target
    other_room = RoomFactory(name="Room 9")
    other_manager = UserFactory(username="boss2", role=Role.MANAGER)
    for token in (
        confirm_token(action=action, object_id=other_room.pk + 1000, user_id=manager_user.pk),
        confirm_token(
            action="room_deactivate" if action == "staff_deactivate" else "staff_deactivate",
            object_id=obj.pk,
            user_id=manager_user.pk,
        ),
        confirm_token(action=action, object_id=obj.pk, user_id=other_manager.pk),
    ):
        assert "Nothing was changed" in manager.post(url, {"confirm": token}).content.decode()
    assert is_active(obj)
    assert other_room.active


def test_a_token_expires_after_fifteen_minutes(manager, target):
    obj, url, _ = target
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = page_token(manager, url)
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert "Nothing was changed" in manager.post(url, {"confirm": token}).content.decode()
    assert is_active(obj)
    with time_machine.travel(start + dt.timedelta(minutes=14, seconds=59), tick=False):
        assert manager.post(url, {"confirm": token}).status_code == 302
    assert not is_active(obj)


def test_the_confirmation_is_closed_to_everyone_but_managers(front_desk, practitioner, target):
    obj, url, _ = target
    for client in (front_desk, practitioner):
        assert client.get(url).status_code == 403
        assert client.post(url, {"confirm": "anything"}).status_code == 403
    assert Client().post(url).status_code == 302
    assert is_active(obj)


def test_editing_a_room_in_use_cannot_take_it_out_of_use(manager, room):
    edit = reverse("treatments:setup_room_edit", args=[room.pk])
    assert "active" not in manager.get(edit).context["form"].fields
    assert manager.post(edit, {"name": "Garden"}).status_code == 302
    room.refresh_from_db()
    assert (room.name, room.active) == ("Garden", True)


def test_a_room_out_of_use_is_brought_back_from_its_edit_page(manager, room):
    manager.post(room_url(room), {"confirm": page_token(manager, room_url(room))})
    edit = reverse("treatments:setup_room_edit", args=[room.pk])
    assert manager.post(edit, {"name": "Room 1", "active": "on"}).status_code == 302
    assert is_active(room)


def test_a_manager_sees_no_deactivate_button_for_their_own_account(manager, manager_user):
    own = StaffProfile.objects.get(user=manager_user)
    page = manager.get(staff_url(own)).content.decode()
    assert "your own account" in page
    assert '<button type="submit" class="btn btn-danger">' not in page
