"""The patients' link pages (/m/<action>/<token>/) answer 429 past PUBLIC_LINK_RATE_LIMIT requests
per client address in a fixed window; staff pages are not counted."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from treatments.messaging.tokens import link_url
from treatments.messaging.urls import LINK_VIEWS
from treatments.models import Session

from .conftest import london

pytestmark = pytest.mark.django_db

NOW = london(2026, 6, 5, 12, 0, 30)
STARTS = london(2026, 6, 10, 14, 0)


def frozen(when: dt.datetime):
    return time_machine.travel(when, tick=False)


def link(action: str) -> str:
    return f"/m/{action}/not-a-real-token/"


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


@pytest.fixture
def limit(settings):
    settings.PUBLIC_LINK_RATE_LIMIT = "3/m"


def test_an_address_is_answered_429_past_the_limit_with_a_readable_page(limit):
    client = from_ip("203.0.113.7")
    with frozen(NOW):
        answers = [client.get(link("confirm")).status_code for _ in range(3)]
        refused = client.get(link("confirm"))
    assert 429 not in answers
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many requests" in page
    assert "Nothing was changed" in page
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Content-Security-Policy" in refused


def test_the_window_is_fixed_and_the_next_one_starts_afresh(limit):
    client = from_ip("203.0.113.7")
    with frozen(NOW):
        for _ in range(3):
            client.get(link("cancel"))
        refused = client.get(link("cancel"))
    assert refused.status_code == 429
    window_left = int(refused["Retry-After"])
    with frozen(NOW + dt.timedelta(seconds=window_left - 1)):
        assert client.get(link("cancel")).status_code == 429
    with frozen(NOW + dt.timedelta(seconds=window_left)):
        assert client.get(link("cancel")).status_code != 429


def test_all_link_actions_share_one_count_per_address(limit):
    client = from_ip("203.0.113.7")
    with frozen(NOW):
        for action in ("confirm", "cancel", "reaction"):
            assert client.get(link(action)).status_code != 429
        assert client.get(link("unsubscribe")).status_code == 429
        assert client.get(link("book")).status_code == 429


@pytest.mark.parametrize("action", list(LINK_VIEWS))
def test_every_link_action_is_limited(settings, action):
    settings.PUBLIC_LINK_RATE_LIMIT = "1/m"
    client = from_ip("198.51.100.1")
    with frozen(NOW):
        assert client.get(link(action)).status_code != 429
        assert client.get(link(action)).status_code == 429
        assert client.post(link(action)).status_code == 429


def test_another_address_is_not_limited(limit):
    with frozen(NOW):
        busy = from_ip("203.0.113.7")
        for _ in range(4):
            busy.get(link("confirm"))
        assert busy.get(link("confirm")).status_code == 429
        assert from_ip("203.0.113.8").get(link("confirm")).status_code != 429


def test_a_refused_request_changes_nothing(limit, book):
    session = book(STARTS, now=london(2026, 6, 1, 10, 0))
    client = from_ip("203.0.113.7")
    url = link_url(action="cancel", payload={"s": session.pk}, expires_at=STARTS)
    cancel = url.removeprefix("http://127.0.0.1:8000")
    assert cancel.startswith("/m/cancel/")
    with frozen(NOW):
        for _ in range(3):
            client.get(link("confirm"))
        assert client.post(cancel).status_code == 429
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_staff_pages_are_not_counted_or_limited(limit, front_desk_user):
    staff = from_ip("203.0.113.7")
    staff.force_login(front_desk_user)
    with frozen(NOW):
        for _ in range(10):
            assert staff.get(reverse("messaging:outbox")).status_code == 200
        assert staff.get(reverse("treatments:calendar")).status_code == 200
        for _ in range(3):
            assert staff.get(link("confirm")).status_code != 429
        assert staff.get(link("confirm")).status_code == 429
        # The address is now limited on the links, not on the staff pages.
        assert staff.get(reverse("messaging:outbox")).status_code == 200
        assert staff.get(reverse("treatments:calendar")).status_code == 200
