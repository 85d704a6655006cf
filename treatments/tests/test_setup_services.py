"""Clinic set-up services: every rule, and nothing half-saved when one is broken.

Field checks (required, length, NUL bytes, formats, choices) belong to the forms and are tested
through the views in test_setup_views.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from mesoclinic.access import Role
from mesoclinic.errors import DomainError
from treatments.models import (
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
    WorkingHours,
)
from treatments.selectors import availability_for, booked_outside_hours
from treatments.services import setup as svc
from treatments.services import staff as staff_svc
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "a-long-unusual-passphrase-42"


def details(**overrides) -> staff_svc.StaffDetails:
    values: dict[str, Any] = {
        "first_name": "Nia",
        "last_name": "Nurse",
        "email": "nia@clinic.test",
        "role": Role.PRACTITIONER,
        "qualification": StaffProfile.Qualification.NURSE,
        "registration_body": "NMC",
        "registration_number": "99A1234E",
        "bookable": True,
    }
    return staff_svc.StaffDetails(**(values | overrides))


def tomorrow_at(hour: int) -> dt.datetime:
    day = timezone.now().astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


# --- the clinic -------------------------------------------------------------------------------


def test_it_updates_the_clinic_details(clinic):
    svc.clinic_update(
        name="Harley Meso", timezone_name="Europe/Paris", phone="+33 1", email="a@b.test"
    )
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone, clinic.email) == (
        "Harley Meso",
        "Europe/Paris",
        "a@b.test",
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/london", "Europe/London\x00"])
def test_it_refuses_an_unknown_time_zone_and_saves_nothing(clinic, zone):
    with pytest.raises(DomainError) as err:
        svc.clinic_update(name="Renamed", timezone_name=zone)
    assert err.value.field == "timezone"
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone) == ("Test Clinic", "Europe/London")


# --- opening hours ----------------------------------------------------------------------------


def test_it_replaces_the_opening_hours_and_closes_missing_days(clinic):
    svc.opening_hours_set(hours={0: (dt.time(9), dt.time(17)), 6: None})
    assert list(OpeningHours.objects.values_list("weekday", "opens", "closes")) == [
        (0, dt.time(9), dt.time(17))
    ]


def test_it_refuses_opening_after_closing_and_keeps_the_old_hours(clinic):
    before = list(OpeningHours.objects.values_list("weekday", "opens", "closes"))
    with pytest.raises(DomainError) as err:
        svc.opening_hours_set(hours={0: (dt.time(9), dt.time(17)), 2: (dt.time(18), dt.time(10))})
    assert "Wednesday" in err.value.message
    assert err.value.field == "starts_2"
    assert list(OpeningHours.objects.values_list("weekday", "opens", "closes")) == before


def test_it_counts_booked_sessions_left_outside_new_opening_hours(clinic, practitioner_profile):
    SessionFactory(practitioner=practitioner_profile, starts_at=tomorrow_at(10))
    assert booked_outside_hours() == 0
    svc.opening_hours_set(hours={})
    assert booked_outside_hours() == 1
    assert Session.objects.get().status == Session.Status.BOOKED  # never moved or cancelled


# --- rooms ------------------------------------------------------------------------------------


def test_it_creates_a_room_and_refuses_a_duplicate_name_in_any_case(clinic):
    svc.room_create(name="  Blue room ")
    with pytest.raises(DomainError, match="already a room"):
        svc.room_create(name="BLUE ROOM")
    assert list(Room.objects.values_list("name", flat=True)) == ["Blue room"]


def test_it_refuses_to_take_a_room_with_booked_sessions_out_of_use(clinic, room):
    SessionFactory(room=room, starts_at=tomorrow_at(10))
    SessionFactory(room=room, starts_at=tomorrow_at(12))
    with pytest.raises(DomainError, match="2 booked sessions"):
        svc.room_deactivate(room=room)
    with pytest.raises(DomainError, match="2 booked sessions"):
        svc.room_update(room=room, name="Renamed", active=False)
    room.refresh_from_db()
    assert (room.name, room.active) == ("Room 1", True)


def test_it_takes_a_room_with_only_past_sessions_out_of_use_and_keeps_them(clinic, room):
    past = SessionFactory(
        room=room,
        starts_at=timezone.now() - dt.timedelta(days=3),
        status=Session.Status.COMPLETED,
    )
    svc.room_deactivate(room=room)
    room.refresh_from_db()
    assert room.active is False
    assert Session.objects.filter(pk=past.pk, room=room).exists()


# --- session types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("duration_minutes", {"duration_minutes": 29}),
        ("duration_minutes", {"duration_minutes": 61}),
        ("buffer_minutes", {"buffer_minutes": -1}),
        ("buffer_minutes", {"buffer_minutes": 121}),
        ("name", {"name": "face"}),  # already exists as "Face"
    ],
)
def test_it_refuses_a_bad_session_type(face, field, kwargs):
    values = {"name": "Neck", "duration_minutes": 30, "buffer_minutes": 10} | kwargs
    count = SessionType.objects.count()
    with pytest.raises(DomainError) as err:
        svc.session_type_create(**values)
    assert err.value.field == field
    assert SessionType.objects.count() == count


def test_changing_a_duration_does_not_move_booked_sessions(face):
    session = SessionFactory(session_type=face, starts_at=tomorrow_at(10))
    svc.session_type_update(
        session_type=face,
        name="Face",
        duration_minutes=60,
        buffer_minutes=20,
        medical_only=True,
        active=True,
    )
    session.refresh_from_db()
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=45)
    assert SessionType.objects.get(pk=face.pk).duration_minutes == 60


# --- staff ------------------------------------------------------------------------------------


def test_it_creates_a_staff_member_with_their_role_and_profile(clinic):
    staff = staff_svc.staff_create(username="nia", password=GOOD_PASSWORD, details=details())
    user = User.objects.get(username="nia")
    assert user.check_password(GOOD_PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [Role.PRACTITIONER.value]
    assert (staff.qualification, staff.registration_number, staff.bookable) == (
        "nurse",
        "99A1234E",
        True,
    )


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("registration_body", {"registration_body": ""}),
        ("registration_number", {"registration_number": " "}),
        ("qualification", {"role": Role.PRACTITIONER, "qualification": "therapist"}),
        ("qualification", {"role": Role.THERAPIST, "qualification": "doctor"}),
        ("qualification", {"role": Role.FRONT_DESK}),
        ("bookable", {"role": Role.MANAGER, "qualification": "none"}),
    ],
)
def test_it_refuses_bad_staff_details_and_creates_no_user(clinic, field, overrides):
    with pytest.raises(DomainError) as err:
        staff_svc.staff_create(username="nia", password=GOOD_PASSWORD, details=details(**overrides))
    assert err.value.field == field
    assert not User.objects.filter(username="nia").exists()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("nia", "password"),
        ("nia", "38475610"),
        ("nia", "Xy7!a"),
    ],
)
def test_it_refuses_a_weak_password_and_creates_nothing(clinic, username, password):
    with pytest.raises(DomainError):
        staff_svc.staff_create(username=username, password=password, details=details())
    assert not StaffProfile.objects.filter(user__first_name="Nia").exists()


def test_it_refuses_a_taken_username_in_any_case(clinic, practitioner_profile):
    with pytest.raises(DomainError, match="taken") as err:
        staff_svc.staff_create(username="DOCTOR", password=GOOD_PASSWORD, details=details())
    assert err.value.field == "username"


def test_it_changes_a_role_and_keeps_exactly_one(clinic, therapist_profile, manager_user):
    staff_svc.staff_update(
        staff=therapist_profile,
        details=details(
            first_name="Tess",
            last_name="Therapist",
            role=Role.PRACTITIONER,
            qualification="nurse",
        ),
    )
    groups = list(therapist_profile.user.groups.values_list("name", flat=True))
    assert groups == [Role.PRACTITIONER.value]


def test_it_refuses_to_remove_the_only_manager(clinic, manager_user):
    staff = manager_user.staff_profile
    with pytest.raises(DomainError, match="only clinic manager"):
        staff_svc.staff_update(
            staff=staff,
            details=details(role=Role.FRONT_DESK, qualification="none", bookable=False),
        )
    with pytest.raises(DomainError, match="only clinic manager"):
        staff_svc.staff_deactivate(staff=staff)
    assert manager_user.groups.filter(name=Role.MANAGER.value).exists()


def test_it_refuses_to_deactivate_a_practitioner_with_booked_sessions_and_says_how_many(
    clinic, practitioner_profile, manager_user
):
    for hour in (9, 11, 13):
        SessionFactory(practitioner=practitioner_profile, starts_at=tomorrow_at(hour))
    with pytest.raises(DomainError, match="3 booked sessions"):
        staff_svc.staff_deactivate(staff=practitioner_profile, by=manager_user)
    with pytest.raises(DomainError, match="3 booked sessions"):
        staff_svc.staff_update(
            staff=practitioner_profile,
            details=details(qualification="doctor", bookable=False),
        )
    practitioner_profile.refresh_from_db()
    practitioner_profile.user.refresh_from_db()
    assert practitioner_profile.user.is_active and practitioner_profile.bookable


def test_it_deactivates_a_practitioner_with_no_booked_sessions_ahead(
    clinic, practitioner_profile, manager_user
):
    staff_svc.staff_deactivate(staff=practitioner_profile, by=manager_user)
    practitioner_profile.user.refresh_from_db()
    assert practitioner_profile.user.is_active is False
    staff_svc.staff_reactivate(staff=practitioner_profile)
    practitioner_profile.user.refresh_from_db()
    assert practitioner_profile.user.is_active is True


def test_it_refuses_to_let_a_manager_deactivate_themselves(clinic, manager_user):
    with pytest.raises(DomainError, match="your own account"):
        staff_svc.staff_deactivate(staff=manager_user.staff_profile, by=manager_user)


# --- working hours and exceptions -------------------------------------------------------------


def test_it_replaces_weekly_hours(practitioner_profile):
    staff_svc.working_hours_set(
        staff=practitioner_profile, hours={1: (dt.time(10), dt.time(14)), 3: None}
    )
    assert list(
        WorkingHours.objects.filter(staff=practitioner_profile).values_list(
            "weekday", "starts", "ends"
        )
    ) == [(1, dt.time(10), dt.time(14))]


def test_it_refuses_bad_weekly_hours_and_keeps_the_old_ones(practitioner_profile):
    with pytest.raises(DomainError, match="Friday"):
        staff_svc.working_hours_set(
            staff=practitioner_profile,
            hours={0: (dt.time(9), dt.time(12)), 4: (dt.time(12), dt.time(12))},
        )
    assert WorkingHours.objects.filter(staff=practitioner_profile).count() == 7


def test_a_whole_day_of_leave_removes_all_availability(clinic, practitioner_profile):
    day = timezone.now().date() + dt.timedelta(days=2)
    staff_svc.working_exception_add(staff=practitioner_profile, day=day, kind="leave")
    available = availability_for(
        staff_ids=[practitioner_profile.pk], first_day=day, days=1, zone=clinic.zone
    )
    assert available[(practitioner_profile.pk, day)] == []


def test_extra_hours_open_time_outside_the_weekly_pattern(clinic, practitioner_profile):
    WorkingHours.objects.filter(staff=practitioner_profile).delete()
    day = timezone.now().date() + dt.timedelta(days=2)
    exc = staff_svc.working_exception_add(
        staff=practitioner_profile,
        day=day,
        kind="extra",
        starts=dt.time(10),
        ends=dt.time(12),
        note="Covering",
    )
    zone = clinic.zone
    available = availability_for(
        staff_ids=[practitioner_profile.pk], first_day=day, days=1, zone=zone
    )
    assert len(available[(practitioner_profile.pk, day)]) == 1
    staff_svc.working_exception_remove(exception=exc)
    assert not WorkingException.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "extra"}, "starts"),
        ({"kind": "leave", "starts": dt.time(10)}, "starts"),
        ({"kind": "leave", "starts": dt.time(12), "ends": dt.time(10)}, "starts"),
        ({"kind": "leave", "days_ago": 3}, "date"),
    ],
)
def test_it_refuses_a_bad_exception(clinic, practitioner_profile, kwargs, field):
    days_ago = kwargs.pop("days_ago", -2)
    day = timezone.now().date() - dt.timedelta(days=days_ago)
    with pytest.raises(DomainError) as err:
        staff_svc.working_exception_add(staff=practitioner_profile, day=day, **kwargs)
    assert err.value.field == field
    assert not WorkingException.objects.exists()


def test_leave_over_booked_sessions_keeps_them_and_counts_them(clinic, practitioner_profile):
    session = SessionFactory(practitioner=practitioner_profile, starts_at=tomorrow_at(10))
    day = session.starts_at.astimezone(clinic.zone).date()
    staff_svc.working_exception_add(staff=practitioner_profile, day=day, kind="leave")
    assert booked_outside_hours(staff_ids=[practitioner_profile.pk]) == 1
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
