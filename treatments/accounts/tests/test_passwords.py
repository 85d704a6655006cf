"""Passwords: change your own, reset by email (single use, expiring, same answer for any address),
change at first sign-in a password a manager chose, at least 12 characters."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from mesoclinic.access import Role
from mesoclinic.audit.models import AuditEntry
from tests.support.second_factor import app_device, current_code
from treatments.accounts.middleware import PASSWORD_CHECKED
from treatments.models import StaffProfile
from treatments.services.staff import StaffDetails, staff_create, staff_update

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
CHANGE = reverse("password_change")
RESET = reverse("password_reset")


def reset_link(message) -> str:
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_twelve_characters_is_the_minimum_and_the_other_validators_stay():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("kqzv-pwlm-7")
    validate_password("kqzv-pwlm-7x")
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234")
    with pytest.raises(ValidationError, match="entirely numeric"):
        validate_password("738492017365")


def test_the_demo_and_test_passwords_are_long_enough():
    from treatments.management.commands.seed_demo import DEMO_PASSWORD

    for password in (DEMO_PASSWORD, PASSWORD, NEW_PASSWORD):
        validate_password(password)


def test_every_user_finds_change_password_in_the_menu(front_desk, practitioner, manager):
    for client in (front_desk, practitioner, manager):
        assert f'href="{CHANGE}"' in client.get("/calendar/").content.decode()


def test_a_user_changes_their_own_password_and_it_is_audited(practitioner, practitioner_profile):
    user = practitioner_profile.user
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = practitioner.post(CHANGE, data, REMOTE_ADDR="192.0.2.4")
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert practitioner.get("/calendar/").status_code == 200  # still signed in
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD_CHANGE)
    assert (entry.actor, entry.object_id, entry.ip, entry.note) == (user, user.pk, "192.0.2.4", "")


def test_a_short_or_wrong_password_change_is_refused_beside_the_field(practitioner):
    short = "Tr0ub4dor&3"  # 11 characters
    response = practitioner.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": short, "new_password2": short}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    wrong = practitioner.post(
        CHANGE,
        {
            "old_password": "not it at all!",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert "incorrectly" in wrong.content.decode()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PASSWORD_CHANGE).exists()


def test_a_reset_email_goes_out_and_the_link_works_once(practitioner_profile, settings):
    settings.MESSAGING_SITE_URL = "https://clinic.example.test"
    user = practitioner_profile.user
    user.email = "ada@clinic.example.test"
    user.save()
    response = Client().post(RESET, {"email": "ADA@clinic.example.test"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "Reset your Test Clinic password" in message.subject
    assert "https://clinic.example.test/accounts/password/reset/" in message.body
    html = message.alternatives[0][0]
    assert 'href="https://clinic.example.test/accounts/password/reset/' in html
    link = reset_link(message)
    browser = Client(REMOTE_ADDR="192.0.2.9")
    form_url = browser.get(link)["Location"]  # Django swaps the token for a session marker
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    done = browser.post(form_url, data)
    assert done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD_RESET)
    assert (entry.actor, entry.object_id, entry.ip, entry.note) == (user, user.pk, "192.0.2.9", "")
    # Single use: the same link is dead now.
    again = Client().get(link, follow=True)
    assert "expired or has been used" in again.content.decode()


def test_a_reset_link_expires(practitioner_profile, settings):
    user = practitioner_profile.user
    user.email = "ada@clinic.example.test"
    user.save()
    start = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        Client().post(RESET, {"email": user.email})
    link = reset_link(mail.outbox[0])
    with time_machine.travel(start + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 5)):
        assert Client().get(link).status_code == 302  # still valid: on to the form
    with time_machine.travel(start + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)):
        assert "expired or has been used" in Client().get(link).content.decode()


def test_the_reset_answer_is_the_same_whether_or_not_the_address_exists(practitioner_profile):
    practitioner_profile.user.email = "ada@clinic.example.test"
    practitioner_profile.user.save()
    known = Client().post(RESET, {"email": "ada@clinic.example.test"}, follow=True)
    unknown = Client().post(RESET, {"email": "nobody@clinic.example.test"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    # The pages differ only in their CSRF token (each client has its own).
    token = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert token.sub(b"", known.content) == token.sub(b"", unknown.content)
    assert len(mail.outbox) == 1


def test_a_reset_does_not_skip_the_second_factor(practitioner_profile):
    user = practitioner_profile.user
    device = app_device(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    client = Client()
    client.post(reverse("login"), {"username": "doctor", "password": NEW_PASSWORD})
    assert client.get("/calendar/")["Location"].startswith(reverse("accounts:second_factor_verify"))
    verify = reverse("accounts:second_factor_verify")
    assert client.post(verify, {"code": current_code(device)}).status_code == 302
    assert client.get("/calendar/").status_code == 200


def _details(**overrides: Any) -> StaffDetails:
    fields: dict[str, Any] = {
        "first_name": "Nia",
        "last_name": "Nurse",
        "email": "nia@clinic.example.test",
        "role": Role.FRONT_DESK,
        "qualification": "none",
        "registration_body": "",
        "registration_number": "",
        "bookable": False,
    }
    return StaffDetails(**(fields | overrides))


def test_a_password_set_by_a_manager_must_be_changed_at_first_sign_in(clinic):
    staff = staff_create(username="nia", password=PASSWORD, details=_details())
    assert staff.must_change_password
    client = Client()
    client.post(reverse("login"), {"username": "nia", "password": PASSWORD})
    for url in ["/", "/calendar/", "/patients/"]:
        assert client.get(url)["Location"] == CHANGE, url
    assert "set by a manager" in client.get(CHANGE).content.decode()
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(CHANGE, data).status_code == 302
    staff.refresh_from_db()
    assert not staff.must_change_password
    assert client.get("/calendar/").status_code == 200


def test_a_manager_changing_someone_s_password_makes_them_change_it_again(clinic):
    staff = staff_create(username="nia", password=PASSWORD, details=_details())
    StaffProfile.objects.filter(pk=staff.pk).update(must_change_password=False)
    staff_update(staff=staff, details=_details(), password="")
    staff.refresh_from_db()
    assert not staff.must_change_password  # editing without a password leaves it
    staff_update(staff=staff, details=_details(), password=NEW_PASSWORD)
    staff.refresh_from_db()
    assert staff.must_change_password


def test_the_password_check_runs_once_per_session(front_desk_user):
    client = Client()
    client.post(reverse("login"), {"username": "frontdesk", "password": PASSWORD})
    assert client.get("/calendar/").status_code == 200
    assert client.session[PASSWORD_CHECKED] is True
