"""A practitioner's first sign-in in a real browser: password, then enrolment with a code
computed from the key the page shows, the recovery codes once, then the clinic."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import totp

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_practitioner_enrols_an_authenticator_app_at_first_sign_in(
    page, practitioner_profile, screenshots
):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("doctor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/two-factor/set-up/**")
    assert page.locator("svg").first.is_visible()
    # A clinical page is still out of reach.
    page.goto("/clinical/dashboard/")
    page.wait_for_url("**/accounts/two-factor/set-up/**")

    secret = page.get_by_test_id("secret").inner_text().strip()
    code = f"{totp(b32decode(secret)):06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm and turn on").click()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    assert codes.count() == 10
    page.screenshot(path=screenshots / "second_factor_recovery_codes.png")
    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url("**/clinical/dashboard/")
    assert page.get_by_role("heading").first.is_visible()
