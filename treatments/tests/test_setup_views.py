"""Clinic set-up screens: who may open them, what they save, and how they treat bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mesoclinic.access import Role
from treatments.models import (
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
    WorkingHours,
)
from treatments.tests.factories import RoomFactory, SessionFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-unusual-passphrase-42"


def url_for(request, name: str, fixture: str | None) -> str:
    if fixture is None:
        return reverse(f"treatments:{name}")
    return reverse(f"treatments:{name}", args=[request.getfixturevalue(fixture).pk])


def confirmed(client: Client, url: str, **kwargs):
    """POST as the confirmation page does: with the token it was rendered with."""
    token = client.get(url).context["token"]
    return client.post(url, {"confirm": token}, **kwargs)


def week(prefix_times: dict[int, tuple[str, str] | None]) -> dict[str, str]:
    data: dict[str, str] = {}
    for day in range(7):
        span = prefix_times.get(day)
        if span is None:
            data[f"off_{day}"] = "on"
        else:
            data[f"starts_{day}"], data[f"ends_{day}"] = span
    return data


# --- access: who may open each page is in tests/test_access.py; here, what a post leaves ------


def test_the_exception_delete_is_manager_only(request, manager, front_desk, practitioner_profile):
    exc = WorkingException.objects.create(
        staff=practitioner_profile, date=timezone.now().date(), kind="leave"
    )
    url = reverse("treatments:setup_exception_delete", args=[practitioner_profile.pk, exc.pk])
    assert front_desk.post(url).status_code == 403
    assert Client().post(url).status_code == 302
    assert WorkingException.objects.filter(pk=exc.pk).exists()
    assert manager.post(url).status_code == 302
    assert not WorkingException.objects.filter(pk=exc.pk).exists()


def test_a_refused_post_changes_nothing(front_desk, room):
    front_desk.post(reverse("treatments:setup_room_deactivate", args=[room.pk]))
    front_desk.post(reverse("treatments:setup_room_edit", args=[room.pk]), {"name": "Mine"})
    room.refresh_from_db()
    assert (room.name, room.active) == ("Room 1", True)


# --- clinic details ---------------------------------------------------------------------------


def test_the_manager_saves_clinic_details(manager, clinic):
    response = manager.post(
        reverse("treatments:setup_clinic"),
        {"name": "Harley Meso", "timezone": "Europe/Dublin", "address": "1 Road", "phone": "01"},
    )
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone, clinic.address) == (
        "Harley Meso",
        "Europe/Dublin",
        "1 Road",
    )


def test_changing_the_time_zone_warns_that_shown_times_move(manager, clinic):
    response = manager.post(
        reverse("treatments:setup_clinic"),
        {"name": "Test Clinic", "timezone": "America/New_York"},
        follow=True,
    )
    assert "Time zone changed from Europe/London to America/New_York" in response.content.decode()


def test_the_clinic_page_offers_the_iana_zones(manager, clinic):
    page = manager.get(reverse("treatments:setup_clinic")).content.decode()
    assert 'value="Europe/London" selected' in page
    assert 'value="Pacific/Auckland"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "timezone": "Mars/Olympus"}, "not a known time zone"),
        ({"name": "", "timezone": "Europe/London"}, "This field is required"),
        ({"name": "x" * 10_000, "timezone": "Europe/London"}, "at most 120 characters"),
        ({"name": "Nul\x00", "timezone": "Europe/London"}, "Null characters are not allowed"),
        ({"name": "X", "timezone": "Europe/London", "email": "nope"}, "valid email"),
        ({"name": "X"}, "This field is required"),
    ],
)
def test_bad_clinic_details_show_beside_the_field_and_save_nothing(manager, clinic, data, message):
    response = manager.post(reverse("treatments:setup_clinic"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone) == ("Test Clinic", "Europe/London")


def test_markup_in_the_clinic_name_is_shown_as_text(manager, clinic):
    manager.post(
        reverse("treatments:setup_clinic"),
        {"name": "<script>alert(1)</script> 💉", "timezone": "Europe/London"},
    )
    page = manager.get(reverse("treatments:setup")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 💉" in page
    assert "<script>alert(1)" not in page


# --- opening hours ----------------------------------------------------------------------------


def test_the_manager_sets_opening_hours_for_the_week(manager, clinic):
    data = week(dict.fromkeys(range(5), ("09:00", "18:00")) | {5: ("10:00", "14:00")})
    response = manager.post(reverse("treatments:setup_opening_hours"), data)
    assert response.status_code == 302
    assert list(OpeningHours.objects.values_list("weekday", "opens", "closes"))[-1] == (
        5,
        dt.time(10),
        dt.time(14),
    )
    assert not OpeningHours.objects.filter(weekday=6).exists()


@pytest.mark.parametrize(
    ("monday", "message"),
    [
        (("19:00", "09:00"), "The start must be before the end"),
        (("09:00", "09:00"), "The start must be before the end"),
        (("09:00", ""), "Give both times"),
        (("25:99", "10:00"), "Enter a valid time"),
        (("x" * 10_000, "10:00"), "Enter a valid time"),
        (("<b>9</b>", "10:00"), "Enter a valid time"),
    ],
)
def test_bad_opening_hours_are_refused_and_nothing_changes(manager, clinic, monday, message):
    before = list(OpeningHours.objects.values_list("weekday", "opens", "closes"))
    data = week({0: monday, 1: ("09:00", "17:00")})
    response = manager.post(reverse("treatments:setup_opening_hours"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "<b>9</b>" not in page
    assert list(OpeningHours.objects.values_list("weekday", "opens", "closes")) == before


def test_closing_a_day_with_bookings_warns_with_the_count(manager, clinic, practitioner_profile):
    starts = timezone.now() + dt.timedelta(days=1)
    starts = starts.replace(hour=10, minute=0, second=0, microsecond=0)
    SessionFactory(practitioner=practitioner_profile, starts_at=starts)
    closed_day = starts.astimezone(clinic.zone).weekday()
    data = week({day: ("08:00", "20:00") for day in range(7) if day != closed_day})
    response = manager.post(reverse("treatments:setup_opening_hours"), data, follow=True)
    assert "1 booked session now fall" in response.content.decode()
    assert Session.objects.get().status == Session.Status.BOOKED


# --- rooms ------------------------------------------------------------------------------------


def test_the_manager_adds_edits_and_retires_a_room(manager, clinic):
    manager.post(reverse("treatments:setup_room_create"), {"name": "Garden room"})
    room = Room.objects.get(name="Garden room")
    manager.post(
        reverse("treatments:setup_room_edit", args=[room.pk]), {"name": "Garden", "active": "on"}
    )
    confirmed(manager, reverse("treatments:setup_room_deactivate", args=[room.pk]))
    room.refresh_from_db()
    assert (room.name, room.active) == ("Garden", False)


def test_a_room_with_booked_sessions_stays_in_use_and_the_page_says_why(manager, room):
    SessionFactory(room=room, starts_at=timezone.now() + dt.timedelta(days=2))
    url = reverse("treatments:setup_room_deactivate", args=[room.pk])
    assert "1 booked session from now on" in manager.get(url).content.decode()
    response = confirmed(manager, url, follow=True)
    assert "1 booked session from now on" in response.content.decode()
    room.refresh_from_db()
    assert room.active is True


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required"),
        ("r" * 10_000, "at most 80 characters"),
        ("Room\x00", "Null characters are not allowed"),
        ("room 1", "already a room"),
    ],
)
def test_bad_room_names_are_refused(manager, room, name, message):
    response = manager.post(reverse("treatments:setup_room_create"), {"name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Room.objects.count() == 1


# --- session types ----------------------------------------------------------------------------


def test_the_manager_adds_a_session_type(manager, clinic):
    response = manager.post(
        reverse("treatments:setup_session_type_create"),
        {"name": "Neck", "duration_minutes": "30", "buffer_minutes": "10", "active": "on"},
    )
    assert response.status_code == 302
    neck = SessionType.objects.get(name="Neck")
    assert (neck.duration_minutes, neck.medical_only, neck.active) == (30, False, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration_minutes": "29"}, "greater than or equal to 30"),
        ({"duration_minutes": "61"}, "less than or equal to 60"),
        ({"duration_minutes": "forty"}, "Enter a whole number"),
        ({"buffer_minutes": "121"}, "less than or equal to 120"),
        ({"name": "n" * 10_000}, "at most 80 characters"),
        ({"name": "FACE"}, "already a session type"),
    ],
)
def test_bad_session_types_are_refused(manager, face, data, message):
    count = SessionType.objects.count()
    values = {"name": "Neck", "duration_minutes": "30", "buffer_minutes": "10"} | data
    response = manager.post(reverse("treatments:setup_session_type_create"), values)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SessionType.objects.count() == count


def test_changing_a_duration_says_booked_sessions_keep_their_length(manager, face):
    session = SessionFactory(session_type=face, starts_at=timezone.now() + dt.timedelta(days=1))
    response = manager.post(
        reverse("treatments:setup_session_type_edit", args=[face.pk]),
        {"name": "Face", "duration_minutes": "60", "buffer_minutes": "15", "medical_only": "on"},
        follow=True,
    )
    assert "1 booked session of this type keep the length" in response.content.decode()
    session.refresh_from_db()
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=45)


# --- staff ------------------------------------------------------------------------------------


def staff_form(**overrides: str) -> dict[str, str]:
    return {
        "username": "nia",
        "password": GOOD_PASSWORD,
        "first_name": "Nia",
        "last_name": "Nurse",
        "email": "nia@clinic.test",
        "role": Role.PRACTITIONER.value,
        "qualification": "nurse",
        "registration_body": "NMC",
        "registration_number": "99A1234E",
        "bookable": "on",
    } | overrides


def test_the_manager_adds_a_nurse_who_can_then_log_in(manager, clinic):
    response = manager.post(reverse("treatments:setup_staff_create"), staff_form())
    staff = StaffProfile.objects.get(user__username="nia")
    assert response.url == reverse("treatments:setup_staff_hours", args=[staff.pk])
    assert staff.bookable and staff.qualification == "nurse"
    assert Client().login(request=HttpRequest(), username="nia", password=GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"registration_number": ""}, "Required for doctors, nurses and prescribers"),
        ({"username": "has space"}, "Enter a valid username"),
        ({"username": "doctor"}, "is taken"),
        ({"password": "password"}, "too common"),
        ({"first_name": "x" * 10_000}, "at most 150 characters"),
        ({"last_name": "Nurse\x00"}, "Null characters are not allowed"),
        ({"role": "Overlord"}, "Select a valid choice"),
        ({"qualification": "therapist"}, "A practitioner is a doctor, nurse"),
        ({"role": Role.FRONT_DESK.value, "qualification": "none"}, "clinical qualification"),
        ({"email": "<script>@x"}, "valid email"),
    ],
)
def test_bad_staff_details_are_refused_and_no_account_is_created(
    manager, practitioner_profile, overrides, message
):
    users = User.objects.count()
    response = manager.post(reverse("treatments:setup_staff_create"), staff_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == users


def test_the_manager_edits_a_staff_member_and_changes_their_role(manager, therapist_profile):
    data = staff_form(
        first_name="Tess",
        last_name="Nurse",
        role=Role.PRACTITIONER.value,
        qualification="nurse",
    )
    data.pop("password")
    response = manager.post(
        reverse("treatments:setup_staff_edit", args=[therapist_profile.pk]), data
    )
    assert response.status_code == 302
    therapist_profile.refresh_from_db()
    assert therapist_profile.qualification == "nurse"
    assert list(therapist_profile.user.groups.values_list("name", flat=True)) == [
        Role.PRACTITIONER.value
    ]


def test_a_weak_new_password_shows_beside_the_field_and_keeps_the_old_one(
    manager, therapist_profile
):
    therapist_profile.user.set_password(GOOD_PASSWORD)
    therapist_profile.user.save()
    data = staff_form(
        first_name="Tess",
        last_name="Therapist",
        role=Role.THERAPIST.value,
        qualification="therapist",
        registration_body="",
        registration_number="",
        password="password",
    )
    response = manager.post(
        reverse("treatments:setup_staff_edit", args=[therapist_profile.pk]), data
    )
    assert response.status_code == 200
    assert "too common" in " ".join(response.context["form"].errors["password"])
    therapist_profile.user.refresh_from_db()
    assert therapist_profile.user.check_password(GOOD_PASSWORD)


def test_deactivating_a_practitioner_with_bookings_is_refused_with_the_count(
    manager, practitioner_profile
):
    for days in (1, 2):
        SessionFactory(
            practitioner=practitioner_profile,
            starts_at=timezone.now() + dt.timedelta(days=days),
        )
    url = reverse("treatments:setup_staff_deactivate", args=[practitioner_profile.pk])
    assert "has 2 booked sessions from now on" in manager.get(url).content.decode()
    response = confirmed(manager, url, follow=True)
    assert "has 2 booked sessions from now on" in response.content.decode()
    practitioner_profile.user.refresh_from_db()
    assert practitioner_profile.user.is_active


def test_a_deactivated_staff_member_can_no_longer_log_in(manager, practitioner_profile):
    practitioner_profile.user.set_password(GOOD_PASSWORD)
    practitioner_profile.user.save()
    confirmed(manager, reverse("treatments:setup_staff_deactivate", args=[practitioner_profile.pk]))
    assert not Client().login(request=HttpRequest(), username="doctor", password=GOOD_PASSWORD)
    manager.post(reverse("treatments:setup_staff_reactivate", args=[practitioner_profile.pk]))
    assert Client().login(request=HttpRequest(), username="doctor", password=GOOD_PASSWORD)


# --- working hours and exceptions -------------------------------------------------------------


def test_the_manager_sets_a_practitioners_week(manager, practitioner_profile):
    url = reverse("treatments:setup_staff_hours", args=[practitioner_profile.pk])
    response = manager.post(url, week({1: ("10:00", "18:00"), 5: ("09:00", "13:00")}))
    assert response.status_code == 302
    assert list(
        WorkingHours.objects.filter(staff=practitioner_profile).values_list("weekday", flat=True)
    ) == [1, 5]


def test_bad_working_hours_show_beside_the_day(manager, practitioner_profile):
    url = reverse("treatments:setup_staff_hours", args=[practitioner_profile.pk])
    response = manager.post(url, week({2: ("18:00", "09:00")}))
    assert response.status_code == 200
    assert "The start must be before the end" in response.content.decode()
    assert WorkingHours.objects.filter(staff=practitioner_profile).count() == 7


def test_the_manager_adds_and_removes_leave(manager, practitioner_profile):
    day = timezone.now().date() + dt.timedelta(days=3)
    url = reverse("treatments:setup_exception_add", args=[practitioner_profile.pk])
    response = manager.post(url, {"date": day.isoformat(), "kind": "leave", "note": "Holiday"})
    assert response.status_code == 302
    exc = WorkingException.objects.get(staff=practitioner_profile)
    assert (exc.date, exc.starts, exc.note) == (day, None, "Holiday")
    page = manager.get(
        reverse("treatments:setup_staff_hours", args=[practitioner_profile.pk])
    ).content.decode()
    assert "Whole day" in page and "Holiday" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "extra"}, "Extra hours need a start and an end time"),
        ({"kind": "leave", "starts": "12:00", "ends": "10:00"}, "The start must be before the end"),
        ({"kind": "leave", "starts": "12:00"}, "Give both times"),
        ({"kind": "leave", "date": "2026-02-30"}, "Enter a valid date"),
        ({"kind": "leave", "date": "2001-01-01"}, "That date has passed"),
        ({"kind": "holiday"}, "Select a valid choice"),
        ({"kind": "leave", "note": "n\x00"}, "Null characters are not allowed"),
    ],
)
def test_bad_exceptions_are_refused(manager, practitioner_profile, data, message):
    values = {"date": (timezone.now().date() + dt.timedelta(days=3)).isoformat()} | data
    url = reverse("treatments:setup_exception_add", args=[practitioner_profile.pk])
    response = manager.post(url, values)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WorkingException.objects.exists()


# --- field checks: the forms own them, the services trust them ----------------------------------


def _exception_form(**overrides: str) -> dict[str, str]:
    day = (timezone.now().date() + dt.timedelta(days=3)).isoformat()
    return {"date": day, "kind": "leave"} | overrides


CLINIC = {"name": "Fine", "timezone": "Europe/London"}
SESSION_TYPE = {"name": "Neck", "duration_minutes": "30", "buffer_minutes": "10"}


@pytest.mark.parametrize(
    ("url_name", "fixture", "data", "field"),
    [
        ("setup_clinic", None, CLINIC | {"name": ""}, "name"),
        ("setup_clinic", None, CLINIC | {"name": "x" * 10_000}, "name"),
        ("setup_clinic", None, CLINIC | {"name": "Bad\x00name"}, "name"),
        ("setup_clinic", None, CLINIC | {"email": "not-an-email"}, "email"),
        ("setup_clinic", None, CLINIC | {"phone": "1" * 33}, "phone"),
        ("setup_clinic", None, CLINIC | {"timezone": "Europe/London\x00"}, "timezone"),
        ("setup_session_type_create", None, SESSION_TYPE | {"name": ""}, "name"),
        ("setup_session_type_create", None, SESSION_TYPE | {"name": "n" * 10_000}, "name"),
        ("setup_staff_create", None, {"first_name": "N\x00ia"}, "first_name"),
        ("setup_staff_create", None, {"last_name": "x" * 10_000}, "last_name"),
        ("setup_staff_create", None, {"email": "nia@"}, "email"),
        ("setup_staff_create", None, {"role": "Overlord"}, "role"),
        ("setup_staff_create", None, {"qualification": "wizard"}, "qualification"),
        ("setup_staff_create", None, {"username": "has space"}, "username"),
        ("setup_staff_create", None, {"username": ""}, "username"),
        ("setup_staff_create", None, {"password": "pass\x00word-long-enough"}, "password"),
        ("setup_exception_add", "practitioner_profile", {"kind": "holiday"}, "kind"),
        ("setup_exception_add", "practitioner_profile", {"note": "n" * 201}, "note"),
    ],
)
def test_field_checks_sit_beside_their_field_and_save_nothing(
    request, manager, clinic, face, url_name, fixture, data, field
):
    if url_name == "setup_staff_create":
        data = staff_form(**data)
    elif url_name == "setup_exception_add":
        data = _exception_form(**data)
    url = url_for(request, url_name, fixture)
    before = (
        list(Clinic.objects.values_list("name", "timezone", "phone", "email")),
        SessionType.objects.count(),
        User.objects.count(),
        WorkingException.objects.count(),
    )
    response = manager.post(url, data)
    assert response.status_code == 200
    form = response.context["exception_form" if fixture else "form"]
    assert list(form.errors) == [field]
    assert (
        list(Clinic.objects.values_list("name", "timezone", "phone", "email")),
        SessionType.objects.count(),
        User.objects.count(),
        WorkingException.objects.count(),
    ) == before


# --- list pages stay flat ---------------------------------------------------------------------


def _many_staff(count: int) -> None:
    users = User.objects.bulk_create(
        User(username=f"bulk{i}", first_name="Bulk", last_name=str(i)) for i in range(count)
    )
    # get_or_create: a transactional test elsewhere may have flushed the migration's groups.
    group, _ = Group.objects.get_or_create(name=Role.PRACTITIONER.value)
    group.user_set.add(*users)
    StaffProfile.objects.bulk_create(
        StaffProfile(user=user, qualification="doctor", registration_body="GMC", bookable=True)
        for user in users
    )


@pytest.mark.parametrize("rows", [1, 200])
def test_the_staff_list_runs_a_fixed_number_of_queries(
    manager, rows, django_assert_max_num_queries
):
    _many_staff(rows)
    with django_assert_max_num_queries(12):
        response = manager.get(reverse("treatments:setup_staff"))
    assert response.content.decode().count("Bulk ") == rows


@pytest.mark.parametrize("rows", [1, 200])
def test_the_room_and_session_type_lists_run_a_fixed_number_of_queries(
    manager, rows, django_assert_max_num_queries
):
    RoomFactory.create_batch(rows)
    SessionType.objects.bulk_create(
        SessionType(name=f"Type {i}", duration_minutes=30, buffer_minutes=0) for i in range(rows)
    )
    with django_assert_max_num_queries(10):
        assert manager.get(reverse("treatments:setup_rooms")).status_code == 200
    with django_assert_max_num_queries(10):
        assert manager.get(reverse("treatments:setup_session_types")).status_code == 200


def test_the_overview_links_to_every_section(manager, clinic):
    page = manager.get(reverse("treatments:setup")).content.decode()
    for name in ("setup_clinic", "setup_opening_hours", "setup_rooms", "setup_session_types"):
        assert reverse(f"treatments:{name}") in page
    assert reverse("treatments:setup_staff") in page
    assert Clinic.objects.get().name in page


def test_the_manager_turns_online_booking_on_from_the_clinic_page(manager):
    response = manager.post(
        reverse("treatments:setup_clinic"), CLINIC | {"online_booking": "request"}
    )
    assert response.status_code == 302
    assert Clinic.objects.get().online_booking == "request"


def test_a_session_type_open_to_new_patients_must_be_bookable_online(manager):
    data = SESSION_TYPE | {"new_patients_online": "on"}
    response = manager.post(reverse("treatments:setup_session_type_create"), data)
    assert response.status_code == 200
    assert "only if it is bookable online" in response.content.decode()
    assert not SessionType.objects.filter(name="Neck").exists()
    response = manager.post(
        reverse("treatments:setup_session_type_create"), data | {"bookable_online": "on"}
    )
    assert response.status_code == 302
    neck = SessionType.objects.get(name="Neck")
    assert neck.bookable_online and neck.new_patients_online
