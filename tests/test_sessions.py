"""Session limits (idle time-out with a warning, absolute lifetime, cookie ends with the browser)
and Cache-Control: no-store on every page a signed-in user gets."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mesoclinic import settings as project
from mesoclinic.audit.models import AuditEntry
from patients.models import Patient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
CALENDAR = "/calendar/"


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _real_limits(settings):
    # The root conftest lifts the limits for the rest of the suite; these are the defaults.
    settings.SESSION_IDLE_MINUTES = 15
    settings.SESSION_WARNING_MINUTES = 2
    settings.SESSION_MAX_HOURS = 10
    settings.SESSION_COOKIE_AGE = project.SESSION_COOKIE_AGE


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(front_desk_user, clock) -> Client:
    """Signed in through the login form, at START."""
    client = Client()
    response = client.post(reverse("login"), {"username": "frontdesk", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(CALENDAR).status_code == 200
    return client


def test_a_session_idle_for_the_timeout_is_signed_out_with_a_message(desk, clock, settings):
    clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES) - dt.timedelta(seconds=1))
    assert desk.get(CALENDAR).status_code == 200
    # That request was activity: the time-out counts again from it.
    clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES) - dt.timedelta(seconds=1))
    assert desk.get(CALENDAR).status_code == 200
    clock.shift(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES))
    response = desk.get(CALENDAR)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={CALENDAR}"
    assert not signed_in(desk)
    page = desk.get(response["Location"]).content.decode()
    assert "You were signed out after 15 minutes without activity" in page


def test_the_warnings_way_out_draws_the_login_page_with_the_reason(desk, clock):
    # The warning's script goes to the login page (never reloads a page drawn from a POST).
    clock.shift(dt.timedelta(minutes=16))
    response = desk.get(reverse("login"), {"next": CALENDAR})
    assert response.status_code == 200
    assert "You were signed out after 15 minutes without activity" in response.content.decode()
    assert not signed_in(desk)


def test_the_idle_timeout_is_a_setting(desk, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5
    clock.shift(dt.timedelta(minutes=5, seconds=1))
    assert desk.get(CALENDAR).status_code == 302
    assert not signed_in(desk)


def test_a_busy_session_still_ends_at_its_maximum_lifetime(desk, clock):
    for _ in range(9 * 6 + 5):  # a request every 10 minutes for 9 h 50 min
        clock.shift(dt.timedelta(minutes=10))
        assert desk.get(CALENDAR).status_code == 200
    clock.shift(dt.timedelta(minutes=10))
    response = desk.get(CALENDAR)
    assert response.status_code == 302
    assert not signed_in(desk)
    page = desk.get(response["Location"]).content.decode()
    assert "a session lasts at most 10 hours" in page


def test_a_time_out_is_audited_as_one_sign_out_with_its_reason(desk, clock, front_desk_user):
    clock.shift(dt.timedelta(minutes=16))
    desk.get(CALENDAR)
    desk.get(CALENDAR)
    [entry] = AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT)
    assert (entry.actor, entry.note, entry.ip) == (front_desk_user, "timeout: idle", "127.0.0.1")


def test_an_htmx_request_after_the_time_out_sends_the_whole_page_to_the_login(desk, clock):
    clock.shift(dt.timedelta(minutes=16))
    response = desk.get(CALENDAR, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/accounts/login/"
    assert not signed_in(desk)


def test_a_post_after_the_time_out_is_not_carried_out(desk, clock):
    payload = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01"}
    clock.shift(dt.timedelta(minutes=16))
    response = desk.post(reverse("patients:patient_create"), payload)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Patient.objects.exists()


def test_the_status_check_is_not_activity_but_staying_signed_in_is(desk, clock):
    clock.shift(dt.timedelta(minutes=14))
    status = desk.get(reverse("session_status")).json()
    assert status == {"seconds_left": 60, "extendable": True}
    clock.shift(dt.timedelta(seconds=30))
    extended = desk.post(reverse("session_extend")).json()
    assert extended == {"seconds_left": 15 * 60, "extendable": True}
    clock.shift(dt.timedelta(minutes=14))
    assert desk.get(CALENDAR).status_code == 200


def test_near_the_maximum_lifetime_the_warning_cannot_extend(desk, clock):
    for _ in range(59):
        clock.shift(dt.timedelta(minutes=10))
        desk.get(CALENDAR)
    status = desk.get(reverse("session_status")).json()
    assert status == {"seconds_left": 600, "extendable": False}


def test_the_page_carries_the_warning_settings_and_its_script_as_a_static_file(desk):
    page = desk.get(CALENDAR).content.decode()
    assert 'data-session-seconds-left="900"' in page
    assert 'data-session-warning-seconds="120"' in page
    assert 'data-session-login-url="/accounts/login/?next=/calendar/"' in page
    assert 'id="session-warning"' in page
    assert re.search(r'<script src="[^"]*js/session_timeout\.js"></script>', page)


def test_the_login_page_has_no_warning(client, clinic):
    page = client.get(reverse("login")).content.decode()
    assert "session-warning" not in page
    assert "session_timeout.js" not in page


def test_the_session_cookie_ends_with_the_browser(front_desk_user):
    client = Client()
    client.post(reverse("login"), {"username": "frontdesk", "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""


def test_signing_out_returns_to_the_login_page_with_a_message(desk):
    response = desk.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You have signed out." in response.content.decode()
    # The back button: the page is asked again (no-store) and is not shown.
    again = desk.get(CALENDAR)
    assert again.status_code == 302
    assert again["Location"].startswith("/accounts/login/")


# no-store on every page a signed-in user gets: every URL pattern, as a manager.


def walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:\w+:)?\w+>", "x1", route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # the admin's regex routes
    return "/" + route.replace("\\", "")


ROUTES = sorted({concrete(route) for route in walk(get_resolver())})


def test_the_defaults_are_15_minutes_idle_warned_2_minutes_before_and_10_hours_at_most():
    # The settings module's own values (the fixtures above override django.conf.settings).
    assert (project.SESSION_IDLE_MINUTES, project.SESSION_WARNING_MINUTES) == (15, 2)
    assert project.SESSION_MAX_HOURS == 10
    assert project.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert project.SESSION_COOKIE_AGE == 10 * 3600


def test_the_walk_covers_the_app_and_the_admin():
    assert len(ROUTES) > 100
    assert {"/calendar/", "/clinical/dashboard/", "/admin/", "/accounts/locks/"} <= set(ROUTES)


@pytest.mark.parametrize("path", ROUTES)
def test_every_page_for_a_signed_in_user_is_not_stored(manager, path):
    response = manager.get(path)
    assert response.status_code < 500
    assert "no-store" in response.get("Cache-Control", ""), response.status_code
