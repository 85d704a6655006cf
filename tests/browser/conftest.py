"""Playwright fixtures for browser tests: headless Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM calls
from that thread; the tests only set up data there, so the async-safety check is lifted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.axe import assert_accessible, install_axe
from tests.support.second_factor import app_device, current_code

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}; install the chromium package")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def check_each_page(page) -> None:
    """Run axe-core after every navigation a test makes or waits for (goto, wait_for_url) and
    on the page the test ends on: a serious or critical violation fails the test there."""
    if getattr(page, "_axe_checked", False):
        return
    page._axe_checked = True
    for name in ("goto", "wait_for_url"):
        navigate = getattr(page, name)

        def checked(*args, _navigate=navigate, **kwargs):
            response = _navigate(*args, **kwargs)
            page._axe_url = page.url
            assert_accessible(page)
            return response

        setattr(page, name, checked)


def checked_context(browser, base_url: str, **options):
    """A browser context whose every page is checked by axe-core (see check_each_page)."""
    options.setdefault("viewport", {"width": 1400, "height": 1000})
    options.setdefault("locale", "en-GB")
    # No transitions (Bootstrap honours the setting): axe must not measure a colour half-way.
    options.setdefault("reduced_motion", "reduce")
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(10_000)
    install_axe(context)
    context.on("page", check_each_page)
    return context


# The desk's two screens (issue 8): a desktop, and a tablet held upright at the desk.
WIDTHS = {"desktop": (1400, 1000), "tablet": (820, 1180)}


@pytest.fixture(params=list(WIDTHS))
def page_at_both_widths(request, browser, live_server) -> Iterator:
    """`page`, once at desktop width and once at a tablet's (820 x 1180)."""
    width, height = WIDTHS[request.param]
    yield from _checked_page(browser, live_server, viewport={"width": width, "height": height})


@pytest.fixture
def page(browser, live_server) -> Iterator:
    yield from _checked_page(browser, live_server)


def _checked_page(browser, live_server, **options) -> Iterator:
    context = checked_context(browser, live_server.url, **options)
    page = context.new_page()
    check_each_page(page)
    try:
        yield page
        # The page the test ended on, if no check has seen it (reached by a click).
        if not page.is_closed() and page.url != getattr(page, "_axe_url", None):
            assert_accessible(page)
    finally:
        context.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where to save screenshots: $MESOCLINIC_SCREENSHOTS to keep them, else a temp folder."""
    folder = Path(os.environ.get("MESOCLINIC_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def menu_link(page, name: str):
    """The main menu's link `name`, opening the menu first where it is folded behind its
    "Menu" button (below 1200 px: a tablet at the desk)."""
    toggler = page.get_by_role("button", name="Menu")
    if toggler.is_visible() and page.locator("#nav.show").count() == 0:
        toggler.click()
        page.locator("#nav.show").wait_for()
    return page.locator("#nav").get_by_role("link", name=name, exact=True)


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would; where a second factor is asked for,
    give the code of a fresh authenticator app (fresh, so that logging in twice within one
    30-second step never replays a code). test_second_factor.py enrols through the page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/two-factor/" not in page.url:
        return
    user = get_user_model().objects.get(username=username)
    TOTPDevice.objects.filter(user=user).delete()
    device = app_device(user)
    if "/two-factor/set-up/" in page.url:
        page.goto("/accounts/two-factor/")
    page.get_by_label("Code").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)
