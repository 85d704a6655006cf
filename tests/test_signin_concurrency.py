"""Managers lifting one sign-in lock at the same instant (PostgreSQL, threads on separate
connections, through the real unlock page).

The failure rows are deleted in the transaction that audits the unlock: the first manager's
delete clears them, the others' deletes wait on its row locks and then find nothing, so they
are told the lock has lifted (on the form, never a 500) and audit nothing.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from tests.support.second_factor import app_device, login_verified
from treatments.tests.factories import UserFactory
from treatments.tests.test_booking_concurrency import race

from .test_signin import PASSWORD, fail, post_login, signed_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 10
LIFTED = "There is no lock on that sign-in any more: it may have lifted."


@pytest.fixture
def managers(clinic):
    users = [UserFactory(username=f"boss{i}", role="Clinic manager") for i in range(2)]
    for user in users:
        app_device(user)  # made before the threads sign in with it
    return users


def _unlock(user, data: dict):
    def post():
        client = Client(raise_request_exception=False, REMOTE_ADDR="10.0.0.1")
        login_verified(client, user)
        return client.post(reverse("signin_unlock"), {**data, "confirm": "yes"})

    return post


def _unlocks() -> int:
    return AuditEntry.objects.filter(action=AuditEntry.Action.UNLOCK).count()


def test_two_managers_unlocking_one_user_at_once_unlock_it_once(managers):
    UserFactory(username="frontdesk")
    locked_out = Client(REMOTE_ADDR="10.0.0.5")
    fail(locked_out, "/accounts/login/", "frontdesk", 5)
    assert post_login(locked_out, "/accounts/login/", "frontdesk", PASSWORD).status_code == 429
    lock = {"username": "frontdesk", "ip_address": "10.0.0.5"}

    responses = race([_unlock(user, lock) for user in managers * (N // 2)])

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert sorted(r.status_code for r in responses) == [200] * (N - 1) + [302]
    for refused in (r for r in responses if r.status_code == 200):
        assert refused.context["form"].non_field_errors() == [LIFTED]
    assert _unlocks() == 1
    assert not AccessAttempt.objects.filter(username="frontdesk").exists()
    assert signed_in(post_login(locked_out, "/accounts/login/", "frontdesk", PASSWORD))


def test_unlocking_a_user_and_their_whole_address_at_once_lifts_both_without_an_error(managers):
    UserFactory(username="frontdesk")
    sprayer = Client(REMOTE_ADDR="10.0.0.7")
    fail(sprayer, "/accounts/login/", "frontdesk", 5)
    for n in range(20):
        post_login(sprayer, "/accounts/login/", f"guess{n}", "wrong password")
    user_lock = {"username": "frontdesk", "ip_address": "10.0.0.7"}
    address_lock = {"username": "", "ip_address": "10.0.0.7"}

    responses = race(
        [_unlock(managers[0], user_lock), _unlock(managers[1], address_lock)] * (N // 2)
    )

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert {r.status_code for r in responses} <= {200, 302}
    for refused in (r for r in responses if r.status_code == 200):
        assert refused.context["form"].non_field_errors() == [LIFTED]
    # The address unlock clears every row; the user's, if it came first, cleared its own.
    assert 1 <= _unlocks() == sum(r.status_code == 302 for r in responses) <= 2
    assert not AccessAttempt.objects.filter(ip_address="10.0.0.7").exists()
    assert signed_in(post_login(sprayer, "/accounts/login/", "frontdesk", PASSWORD))
