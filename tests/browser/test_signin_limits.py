"""Sign-in protection and session limits as a person meets them: five wrong passwords lock the
account on this computer (the right one is then refused with the lock message); a signed-in
page warns before the idle time-out, "Stay signed in" keeps the session, and letting the
warning run out returns to the login page with a message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, log_in

pytestmark = [pytest.mark.browser]


def submit_login(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_lockout_and_the_idle_warning_in_the_browser(
    transactional_db,
    live_server,
    page,
    screenshots,
    settings,
    front_desk_user,
    practitioner_profile,
):
    # Five wrong passwords: locked; the right password is then refused with the same message.
    page.goto("/accounts/login/")
    for _ in range(4):
        submit_login(page, "frontdesk", "not the password")
        expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    submit_login(page, "frontdesk", "not the password")
    lock = page.locator("#signin-locked")
    expect(lock).to_contain_text("Sign-in is locked after too many failed attempts")
    submit_login(page, "frontdesk", PASSWORD)
    expect(lock).to_contain_text("Sign-in is locked after too many failed attempts")
    assert "/accounts/login/" in page.url
    page.screenshot(path=screenshots / "signin-locked.png")

    # A colleague at the same computer still signs in. A 12-second idle time-out, warned 9 s
    # before, so the warning shows about 3 s after each page or "Stay signed in".
    settings.SESSION_IDLE_MINUTES = 0.2
    settings.SESSION_WARNING_MINUTES = 0.15
    log_in(page, practitioner_profile.user.username)
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8_000)
    expect(warning).to_contain_text("You will be signed out in 1 minute")
    page.screenshot(path=screenshots / "session-warning.png")
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()

    # Unanswered, the warning runs out: the login page, with the reason.
    expect(warning).to_be_visible(timeout=8_000)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="), timeout=15_000)
    expect(page.get_by_role("alert").first).to_contain_text("You were signed out after")
    page.go_back()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
