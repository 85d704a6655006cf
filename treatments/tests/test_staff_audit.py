"""Every change to a staff account, role or qualification leaves exactly one audit entry, naming
what changed and never a value (no password, no registration number)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mesoclinic.access import Role
from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from treatments.models import StaffProfile
from treatments.services import staff as staff_svc
from treatments.tests.test_setup_services import GOOD_PASSWORD, details
from treatments.tests.test_setup_views import staff_form

pytestmark = pytest.mark.django_db
STAFF_CHANGE = AuditEntry.Action.STAFF_CHANGE


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=STAFF_CHANGE).order_by("id"))


def test_creating_a_staff_member_writes_one_entry_naming_the_role(clinic, manager_user):
    staff = staff_svc.staff_create(
        username="nia", password=GOOD_PASSWORD, details=details(), by=manager_user
    )
    [entry] = _entries()
    assert (entry.actor, entry.object_type, entry.object_id) == (
        manager_user,
        "user",
        staff.user.pk,
    )
    assert entry.note == "created: Practitioner"
    assert entry.patient is None


def test_a_role_and_qualification_change_writes_one_entry_naming_both(
    clinic, therapist_profile, manager_user
):
    staff_svc.staff_update(
        staff=therapist_profile,
        details=details(
            first_name="Tess",
            last_name="Therapist",
            email=therapist_profile.user.email,
            role=Role.PRACTITIONER,
            qualification="nurse",
            bookable=therapist_profile.bookable,
        ),
        by=manager_user,
    )
    [entry] = _entries()
    assert entry.actor == manager_user
    assert entry.object_id == therapist_profile.user.pk
    assert entry.note == "role, qualification, registration"


def test_a_password_reset_by_the_manager_is_named_but_never_recorded(
    clinic, practitioner_profile, manager_user
):
    user = practitioner_profile.user
    same = details(
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        qualification=practitioner_profile.qualification,
        registration_body=practitioner_profile.registration_body,
        registration_number=practitioner_profile.registration_number,
        bookable=practitioner_profile.bookable,
    )
    staff_svc.staff_update(staff=practitioner_profile, details=same, by=manager_user)
    assert _entries() == []  # nothing changed, nothing to audit
    staff_svc.staff_update(
        staff=practitioner_profile, details=same, password=GOOD_PASSWORD, by=manager_user
    )
    [entry] = _entries()
    assert entry.note == "password"
    assert GOOD_PASSWORD not in entry.note


def test_deactivating_and_reactivating_write_one_entry_each(
    clinic, practitioner_profile, manager_user
):
    staff_svc.staff_deactivate(staff=practitioner_profile, by=manager_user)
    assert [e.note for e in _entries()] == ["deactivated"]
    staff_svc.staff_reactivate(staff=practitioner_profile, by=manager_user)
    assert [e.note for e in _entries()] == ["deactivated", "reactivated"]


def test_a_refused_change_writes_no_entry(clinic, manager_user):
    with pytest.raises(DomainError):
        staff_svc.staff_deactivate(staff=manager_user.staff_profile, by=manager_user)
    assert _entries() == []


def test_the_set_up_pages_record_the_manager_as_the_actor(manager, manager_user, clinic):
    manager.post(reverse("treatments:setup_staff_create"), staff_form())
    profile = StaffProfile.objects.get(user__username="nia")
    deactivate = reverse("treatments:setup_staff_deactivate", args=[profile.pk])
    manager.post(deactivate, {"confirm": manager.get(deactivate).context["token"]})
    manager.post(reverse("treatments:setup_staff_reactivate", args=[profile.pk]))
    assert [(e.actor, e.object_id, e.note) for e in _entries()] == [
        (manager_user, profile.user_id, "created: Practitioner"),
        (manager_user, profile.user_id, "deactivated"),
        (manager_user, profile.user_id, "reactivated"),
    ]
