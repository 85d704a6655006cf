"""Sign-in protection (django-axes): locks, their message, their expiry, a manager's unlock, and
the audit trail of sign-ins, on the staff login and on /admin/login/ alike."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from treatments.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOCK_TEXT = "Sign-in is locked after too many failed attempts"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

LOGIN_FORMS = {"staff": "/accounts/login/", "admin": "/admin/login/"}


@pytest.fixture
def staff_member(clinic):
    # is_staff so that /admin/login/ accepts the account too.
    return UserFactory(username="frontdesk", is_staff=True)


def post_login(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password, "next": "/"})


def fail(client: Client, url: str, username: str, times: int) -> None:
    for _ in range(times):
        response = post_login(client, url, username, "wrong password")
        assert response.status_code in {200, 429}


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_five_wrong_passwords_lock_the_user_from_that_address(staff_member, form):
    url = LOGIN_FORMS[form]
    client = Client(REMOTE_ADDR="10.0.0.5")
    fail(client, url, "frontdesk", 4)
    assert signed_in(post_login(client, url, "frontdesk", PASSWORD)) is True

    client = Client(REMOTE_ADDR="10.0.0.5")
    fail(client, url, "frontdesk", 5)
    response = post_login(client, url, "frontdesk", PASSWORD)
    assert response.status_code == 429
    assert LOCK_TEXT in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_the_lock_message_is_the_same_for_an_unknown_username(staff_member, form):
    url = LOGIN_FORMS[form]
    client = Client(REMOTE_ADDR="10.0.0.5")
    fail(client, url, "frontdesk", 5)
    known = post_login(client, url, "frontdesk", "wrong password")
    fail(client, url, "nobody-here", 5)
    unknown = post_login(client, url, "nobody-here", "wrong password")
    assert known.status_code == unknown.status_code == 429
    assert LOCK_TEXT in known.content.decode()
    assert LOCK_TEXT in unknown.content.decode()


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_another_address_is_not_locked_for_a_different_user(staff_member, form, clinic):
    url = LOGIN_FORMS[form]
    UserFactory(username="drsmith", is_staff=True)
    fail(Client(REMOTE_ADDR="10.0.0.5"), url, "frontdesk", 5)
    elsewhere = Client(REMOTE_ADDR="10.0.0.6")
    assert signed_in(post_login(elsewhere, url, "drsmith", PASSWORD)) is True


def test_the_same_user_from_another_address_is_not_locked(staff_member):
    fail(Client(REMOTE_ADDR="10.0.0.5"), "/accounts/login/", "frontdesk", 5)
    other = Client(REMOTE_ADDR="10.0.0.6")
    assert signed_in(post_login(other, "/accounts/login/", "frontdesk", PASSWORD)) is True


def test_a_colleague_at_the_same_address_is_not_locked_by_one_users_failures(staff_member):
    UserFactory(username="drsmith")
    fail(Client(REMOTE_ADDR="10.0.0.5"), "/accounts/login/", "frontdesk", 5)
    same_desk = Client(REMOTE_ADDR="10.0.0.5")
    assert signed_in(post_login(same_desk, "/accounts/login/", "drsmith", PASSWORD)) is True


def test_many_usernames_tried_from_one_address_lock_the_address(staff_member, settings):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for n in range(settings.SIGNIN_IP_FAILURE_LIMIT):
        post_login(client, "/accounts/login/", f"guess{n}", "wrong password")
    response = post_login(client, "/accounts/login/", "frontdesk", PASSWORD)
    assert response.status_code == 429
    assert LOCK_TEXT in response.content.decode()
    other = Client(REMOTE_ADDR="10.0.0.8")
    assert signed_in(post_login(other, "/accounts/login/", "frontdesk", PASSWORD)) is True


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_the_lock_lifts_after_the_cool_off(staff_member, form, settings):
    url = LOGIN_FORMS[form]
    client = Client(REMOTE_ADDR="10.0.0.5")
    with time_machine.travel(START, tick=False) as clock:
        fail(client, url, "frontdesk", 5)
        clock.shift(dt.timedelta(minutes=settings.SIGNIN_COOLOFF_MINUTES - 1))
        assert post_login(client, url, "frontdesk", PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=1, seconds=1))
        assert signed_in(post_login(client, url, "frontdesk", PASSWORD)) is True


def test_attempts_during_the_lock_do_not_extend_it(staff_member, settings):
    client = Client(REMOTE_ADDR="10.0.0.5")
    with time_machine.travel(START, tick=False) as clock:
        fail(client, "/accounts/login/", "frontdesk", 5)
        clock.shift(dt.timedelta(minutes=10))
        fail(client, "/accounts/login/", "frontdesk", 3)
        clock.shift(dt.timedelta(minutes=settings.SIGNIN_COOLOFF_MINUTES - 10, seconds=1))
        assert signed_in(post_login(client, "/accounts/login/", "frontdesk", PASSWORD)) is True


def test_the_address_comes_from_remote_addr_not_from_a_forwarded_header(staff_member):
    for n in range(5):
        spoofed = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        post_login(spoofed, "/accounts/login/", "frontdesk", "wrong password")
    client = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert post_login(client, "/accounts/login/", "frontdesk", PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(staff_member, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        # The client forges the left part; the proxy appends the address it saw.
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.5")
        post_login(client, "/accounts/login/", "frontdesk", "wrong password")
    locked = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 10.0.0.5")
    assert post_login(locked, "/accounts/login/", "frontdesk", PASSWORD).status_code == 429
    other = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.6")
    assert signed_in(post_login(other, "/accounts/login/", "frontdesk", PASSWORD)) is True


# A manager sees the locks and lifts one.


def test_a_manager_sees_the_current_locks(staff_member, manager):
    fail(Client(REMOTE_ADDR="10.0.0.5"), "/accounts/login/", "frontdesk", 5)
    fail(Client(REMOTE_ADDR="10.0.0.9"), "/accounts/login/", "drsmith", 2)  # not locked
    page = manager.get(reverse("signin_locks")).content.decode()
    assert "frontdesk" in page
    assert "10.0.0.5" in page
    assert "drsmith" not in page


def test_the_locks_page_is_for_managers_only(front_desk, practitioner):
    assert front_desk.get(reverse("signin_locks")).status_code == 403
    assert practitioner.get(reverse("signin_unlock")).status_code == 403


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_a_manager_unlocks_a_user_after_confirming(staff_member, manager, form):
    url = LOGIN_FORMS[form]
    client = Client(REMOTE_ADDR="10.0.0.5")
    fail(client, url, "frontdesk", 5)
    lock = {"username": "frontdesk", "ip_address": "10.0.0.5"}

    confirm = manager.get(reverse("signin_unlock"), lock)
    assert confirm.status_code == 200
    assert 'name="confirm" value="yes"' in confirm.content.decode()
    # A bare POST without the confirmation does nothing.
    manager.post(reverse("signin_unlock"), lock)
    assert post_login(client, url, "frontdesk", PASSWORD).status_code == 429

    response = manager.post(reverse("signin_unlock"), {**lock, "confirm": "yes"}, follow=True)
    assert "Sign-in unlocked for frontdesk" in response.content.decode()
    assert signed_in(post_login(client, url, "frontdesk", PASSWORD)) is True


def test_unlocking_a_lock_that_has_lifted_says_so(manager, clinic):
    lock = {"username": "frontdesk", "ip_address": "10.0.0.5", "confirm": "yes"}
    response = manager.post(reverse("signin_unlock"), lock)
    assert response.status_code == 200
    assert "no lock on that sign-in any more" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UNLOCK).exists()


def test_a_malformed_unlock_request_gets_a_message_not_an_error(manager):
    response = manager.post(
        reverse("signin_unlock"), {"ip_address": "not-an-ip<script>", "confirm": "yes"}
    )
    assert response.status_code == 200
    assert "not valid" in response.content.decode()


# The audit trail: one entry per event, with user, address and time; never the password.


def entries(action: str):
    return list(AuditEntry.objects.filter(action=action))


def test_a_sign_in_and_a_sign_out_are_each_audited_once(staff_member):
    client = Client(REMOTE_ADDR="10.0.0.5")
    assert signed_in(post_login(client, "/accounts/login/", "frontdesk", PASSWORD)) is True
    client.post(reverse("logout"))
    [login] = entries(AuditEntry.Action.LOGIN)
    [logout] = entries(AuditEntry.Action.LOGOUT)
    for entry in (login, logout):
        assert entry.actor == staff_member
        assert entry.ip == "10.0.0.5"
        assert entry.object_type == "user"
        assert entry.object_id == staff_member.pk
        assert entry.at is not None


def test_a_failed_sign_in_records_the_username_tried_never_the_password(staff_member):
    client = Client(REMOTE_ADDR="10.0.0.5")
    post_login(client, "/accounts/login/", "frontdesk", "hunter2-secret")
    post_login(client, "/admin/login/", "x" * 60, "another-secret")
    known, unknown = sorted(entries(AuditEntry.Action.LOGIN_FAILED), key=lambda e: e.id)
    assert (known.actor, known.note, known.ip) == (staff_member, "frontdesk", "10.0.0.5")
    assert (unknown.actor, unknown.note) == (None, "x" * 40)
    notes = " ".join(AuditEntry.objects.values_list("note", flat=True))
    assert "secret" not in notes
    assert not entries(AuditEntry.Action.LOGIN)


def test_a_lockout_is_audited_once_however_many_attempts_follow(staff_member):
    client = Client(REMOTE_ADDR="10.0.0.5")
    fail(client, "/accounts/login/", "frontdesk", 8)
    post_login(client, "/accounts/login/", "frontdesk", PASSWORD)
    [lockout] = entries(AuditEntry.Action.LOCKOUT)
    assert (lockout.actor, lockout.note, lockout.ip) == (staff_member, "frontdesk", "10.0.0.5")
    assert len(entries(AuditEntry.Action.LOGIN_FAILED)) == 9
    assert not entries(AuditEntry.Action.LOGIN)


def test_an_unlock_is_audited_once_with_the_manager_and_their_address(staff_member, clinic):
    fail(Client(REMOTE_ADDR="10.0.0.5"), "/accounts/login/", "frontdesk", 5)
    manager_user = UserFactory(username="boss", role="Clinic manager")
    manager = Client(REMOTE_ADDR="10.0.0.1")
    manager.force_login(manager_user)
    lock = {"username": "frontdesk", "ip_address": "10.0.0.5", "confirm": "yes"}
    manager.post(reverse("signin_unlock"), lock)
    [unlock] = entries(AuditEntry.Action.UNLOCK)
    assert unlock.actor == manager_user
    assert unlock.ip == "10.0.0.1"
    assert unlock.object_id == staff_member.pk
    assert unlock.note == "frontdesk"


def test_a_manager_unlocks_a_whole_address(staff_member, manager):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for n in range(20):
        post_login(client, "/accounts/login/", f"guess{n}", "wrong password")
    assert "every username" in manager.get(reverse("signin_locks")).content.decode()
    manager.post(reverse("signin_unlock"), {"ip_address": "10.0.0.7", "confirm": "yes"})
    assert signed_in(post_login(client, "/accounts/login/", "frontdesk", PASSWORD)) is True
    assert User.objects.filter(username="frontdesk").exists()
