"""Two-factor sign-in through the real pages: enrolment, the code page, recovery codes, reset.

Codes are computed here from the enrolled secret, as an authenticator app would.
"""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32encode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from mesoclinic.access import Role
from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from tests.support.second_factor import app_device, current_code, login_verified
from treatments.accounts import services
from treatments.models import Clinic, StaffProfile
from treatments.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ENROL = reverse("accounts:second_factor_enrol")
VERIFY = reverse("accounts:second_factor_verify")
# Pages a practitioner must not reach before the second factor: calendar, patients, clinical
# dashboard, products, courses, clinic set-up (manager), the admin.
GATED = [
    "/",
    "/calendar/",
    "/patients/",
    "/clinical/dashboard/",
    "/products/",
    "/courses/",
    "/admin/",
]
NOW = dt.datetime(2030, 3, 4, 10, 0, 5, tzinfo=dt.UTC)


def sign_in(username: str) -> Client:
    """The password step only, through the login form."""
    client = Client(REMOTE_ADDR="198.51.100.7")
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "the password was refused"
    return client


def enrol(client: Client, user) -> list[str]:
    """Open the enrolment page and confirm it with the app's current code; the recovery codes."""
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": current_code(device)})
    assert response.status_code == 200
    return re.findall(r'<li class="col">([a-z2-7]{8})</li>', response.content.decode())


@pytest.fixture
def doctor(practitioner_profile):
    return practitioner_profile.user


def test_after_the_password_a_practitioner_lands_on_enrolment_never_a_clinical_page(doctor):
    client = sign_in("doctor")
    landing = client.get(reverse("home"), follow=True)
    assert landing.redirect_chain[-1][0].startswith(ENROL)
    assert "Set up two-factor authentication" in landing.content.decode()
    for url in GATED:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(ENROL), url


def test_the_enrolment_page_draws_the_qr_code_itself_and_shows_the_key(doctor):
    client = sign_in("doctor")
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=doctor, confirmed=False)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<path" in svg and "<img" not in page and "http" not in svg.split(">", 1)[1]
    assert b32encode(device.bin_key).decode() in page


def test_a_valid_code_turns_it_on_shows_ten_recovery_codes_once_and_opens_the_pages(doctor):
    client = sign_in("doctor")
    codes = enrol(client, doctor)
    assert len(codes) == len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=doctor).confirmed
    assert StaticToken.objects.filter(device__user=doctor).count() == 10
    for url in ["/calendar/", "/clinical/dashboard/", "/patients/"]:
        assert client.get(url).status_code == 200, url
    # Shown once: the page does not show them again.
    assert client.get(ENROL).status_code == 302
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MFA_ENROL)
    assert (entry.actor, entry.object_type, entry.object_id) == (doctor, "user", doctor.pk)
    assert (entry.ip, entry.note) == ("198.51.100.7", "")


def test_a_wrong_code_at_enrolment_is_refused_and_the_device_does_not_count(doctor):
    client = sign_in("doctor")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=doctor, confirmed=False)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=doctor, confirmed=True).exists()
    assert client.get("/clinical/dashboard/")["Location"].startswith(ENROL)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.MFA_ENROL).exists()


def test_with_an_app_the_password_leads_to_the_code_page_and_a_valid_code_opens_it(doctor):
    device = app_device(doctor)
    client = sign_in("doctor")
    for url in GATED:
        assert client.get(url)["Location"].startswith(VERIFY), url
    response = client.post(VERIFY + "?next=/clinical/dashboard/", {"code": current_code(device)})
    assert response.status_code == 302 and response["Location"] == "/clinical/dashboard/"
    assert client.get("/clinical/dashboard/").status_code == 200


def test_a_wrong_code_is_refused(doctor):
    device = app_device(doctor)
    client = sign_in("doctor")
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/clinical/dashboard/")["Location"].startswith(VERIFY)


def test_a_code_already_used_is_refused_the_next_one_works(doctor):
    with time_machine.travel(NOW, tick=False) as clock:
        device = app_device(doctor)
        code = current_code(device)
        first = sign_in("doctor")
        assert first.post(VERIFY, {"code": code}).status_code == 302
        replay = sign_in("doctor")
        response = replay.post(VERIFY, {"code": code})
        assert "That code is not right" in response.content.decode()
        assert replay.get("/clinical/dashboard/")["Location"].startswith(VERIFY)
        clock.shift(dt.timedelta(seconds=30))
        device.refresh_from_db()
        assert replay.post(VERIFY, {"code": current_code(device)}).status_code == 302
        assert replay.get("/clinical/dashboard/").status_code == 200


def test_a_recovery_code_works_once(doctor):
    with time_machine.travel(NOW, tick=False) as clock:
        codes = enrol(sign_in("doctor"), doctor)
        client = sign_in("doctor")
        response = client.post(VERIFY, {"code": codes[0].upper()}, follow=True)
        assert "recovery code; 9 left" in response.content.decode()
        assert client.get("/clinical/dashboard/").status_code == 200
        again = sign_in("doctor")
        refused = again.post(VERIFY, {"code": codes[0]}).content.decode()
        assert "That code is not right" in refused
        assert again.get("/clinical/dashboard/")["Location"].startswith(VERIFY)
        # django-otp slows guessing down: after a failure the next try waits a second.
        clock.shift(dt.timedelta(seconds=2))
        assert again.post(VERIFY, {"code": codes[1]}).status_code == 302


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.MANAGER])
def test_therapists_and_managers_must_enrol_too(clinic, role):
    user = UserFactory(username="someone", role=role)
    StaffProfile.objects.create(user=user)
    assert sign_in("someone").get("/calendar/")["Location"].startswith(ENROL)


def test_a_superuser_must_enrol_and_the_admin_needs_the_second_factor(clinic):
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = sign_in("root")
    assert client.get("/admin/")["Location"].startswith(ENROL)
    enrol(client, user)
    assert client.get("/admin/").status_code == 200


def test_the_front_desk_is_not_forced_unless_the_clinic_requires_it(front_desk_user, clinic):
    assert sign_in("frontdesk").get("/calendar/").status_code == 200
    Clinic.objects.filter(pk=clinic.pk).update(front_desk_second_factor=True)
    assert sign_in("frontdesk").get("/calendar/")["Location"].startswith(ENROL)


def test_the_manager_can_require_it_of_the_front_desk_on_the_clinic_page(manager, clinic):
    data = {"name": "Test Clinic", "timezone": "Europe/London", "front_desk_second_factor": "on"}
    assert manager.post(reverse("treatments:setup_clinic"), data).status_code == 302
    assert Clinic.objects.get().front_desk_second_factor


def test_the_front_desk_may_enrol_and_then_needs_a_code(front_desk_user):
    client = sign_in("frontdesk")
    assert "Set up two-factor" in client.get("/calendar/").content.decode()
    enrol(client, front_desk_user)
    assert sign_in("frontdesk").get("/calendar/")["Location"].startswith(VERIFY)


def test_a_manager_reset_needs_confirmation_is_audited_and_forces_enrolment_again(
    manager, manager_user, doctor
):
    doctor_client = login_verified(Client(), doctor)
    assert doctor_client.get("/clinical/dashboard/").status_code == 200
    url = reverse("accounts:second_factor_reset", args=[doctor.staff_profile.pk])
    assert "Reset" in manager.get(url).content.decode()
    assert manager.post(url, {}).status_code == 200  # no confirmation: nothing happens
    assert TOTPDevice.objects.filter(user=doctor).exists()
    response = manager.post(url, {"confirm": "on"}, REMOTE_ADDR="203.0.113.9")
    assert response["Location"] == reverse("treatments:setup_staff")
    assert not TOTPDevice.objects.filter(user=doctor).exists()
    assert not StaticDevice.objects.filter(user=doctor).exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MFA_RESET)
    assert (entry.actor, entry.object_id, entry.ip, entry.note) == (
        manager_user,
        doctor.pk,
        "203.0.113.9",
        "",
    )
    # The doctor's verified session stops being verified; their next sign-in enrols again.
    assert doctor_client.get("/clinical/dashboard/")["Location"].startswith(ENROL)
    assert sign_in("doctor").get("/clinical/dashboard/")["Location"].startswith(ENROL)


def test_only_a_manager_can_reset_a_second_factor(practitioner, front_desk, doctor):
    url = reverse("accounts:second_factor_reset", args=[doctor.staff_profile.pk])
    assert practitioner.post(url, {"confirm": "on"}).status_code == 403
    assert front_desk.post(url, {"confirm": "on"}).status_code == 403
    assert TOTPDevice.objects.filter(user=doctor).exists()


def test_enrolment_cannot_replace_an_app_already_confirmed(doctor):
    app_device(doctor)
    with pytest.raises(DomainError, match="already set up"):
        services.second_factor_enrol_start(user=doctor)
