"""Accessibility and layout, per role: axe-core on every page of the menu, the skip link, and a
menu that works from a 360 px phone to a 1920 px screen.

Every page any browser test visits is also checked by axe-core (tests/browser/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from patients.tests.factories import PatientFactory
from tests.browser.axe import axe_script, axe_violations
from tests.browser.conftest import checked_context
from tests.support.second_factor import login_verified
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]

WIDTHS = [(360, 740), (820, 1180), (1280, 900), (1920, 1080)]


@pytest.fixture
def clinic_day(clinic, room, face, practitioner_profile):
    patient = PatientFactory(first_name="Jane", last_name="Austen", phone="07700 900031")
    SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=timezone.now().replace(microsecond=0) + dt.timedelta(days=1),
    )
    # And one today, so that the desk's and the practitioner's "Today" lists have a row to lay out.
    SessionFactory(
        patient=PatientFactory(first_name="Fanny", last_name="Price"),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=dt.datetime.combine(
            timezone.localdate(timezone.now(), clinic.zone), dt.time(12), tzinfo=clinic.zone
        ),
    )
    return patient


def sign_in(page, base_url: str, user) -> None:
    """Signed in with a verified second factor without the sign-in pages (test_signin_limits.py
    and test_second_factor.py click through those): these tests are about the pages after."""
    client = login_verified(Client(), user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )


def menu_links(page) -> list[str]:
    hrefs = page.locator("#nav a.nav-link").evaluate_all("links => links.map(a => a.href)")
    assert hrefs, "the menu has no links"
    return hrefs


# Each role's pages on the desk's screen, on a tablet held upright, and on a phone.
SCREENS = {"desktop": (1400, 1000), "tablet": (820, 1180), "phone": (390, 844)}
# The narrowest phone the app is laid out for: nothing scrolls sideways but the scroll regions.
NARROWEST = (360, 740)


def assert_no_sideways_scroll(page, width: int) -> None:
    """The page is no wider than the window: a table wider than the screen scrolls inside its own
    region (documentElement.scrollWidth leaves out what overflows inside such a region)."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, (
        f"{page.url} scrolls sideways at {width} px ({wide} px wide): " + page.evaluate(_WIDEST)
    )


def assert_scroll_regions_work_by_keyboard(page) -> None:
    """Every box that scrolls sideways is a region with a name that the keyboard reaches: it
    takes the focus itself, or holds something that does (a link in it scrolls it into view).
    axe-core's scrollable-region-focusable asks only the second, and not for the name."""
    found = page.evaluate(_UNNAMED_SCROLLERS)
    assert not found, f"{page.url}: regions that scroll but are unnamed or unreachable: {found}"


# Boxes whose content overflows sideways and scrolls: role region, a name, and a keyboard stop.
_UNNAMED_SCROLLERS = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.scrollWidth > el.clientWidth + 1
    && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
  .filter((el) => el.getAttribute("role") !== "region"
    || !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))
    || !(el.tabIndex >= 0
      || el.querySelector("a[href], button, input, select, textarea, [tabindex]")))
  .map((el) => el.outerHTML.slice(0, 120))"""


# What sticks out past the window's right edge, to name in a failure.
_WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5
    && !el.closest(".table-responsive, .visually-hidden"))
  .slice(0, 5)
  .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className
      ? "." + el.className.split(" ").join(".") : "")
    + " right=" + Math.round(el.getBoundingClientRect().right))
  .join(" | ")"""


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize(
    "who", ["front_desk_user", "practitioner_profile", "therapist_profile", "manager_user"]
)
def test_every_menu_page_has_no_serious_accessibility_violation(
    browser, live_server, request, who, screen, clinic_day
):
    width, height = SCREENS[screen]
    context = checked_context(browser, live_server.url, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        user = request.getfixturevalue(who)
        sign_in(page, live_server.url, getattr(user, "user", user))
        page.goto("/")
        # Each goto runs axe-core (conftest.check_each_page): a serious/critical finding fails.
        for href in [*menu_links(page), f"{live_server.url}/patients/{clinic_day.pk}/"]:
            page.goto(href)
            assert_no_sideways_scroll(page, width)
            assert_scroll_regions_work_by_keyboard(page)
            if screen == "phone":
                page.set_viewport_size({"width": NARROWEST[0], "height": NARROWEST[1]})
                assert_no_sideways_scroll(page, NARROWEST[0])
                assert_scroll_regions_work_by_keyboard(page)
                page.set_viewport_size({"width": width, "height": height})
    finally:
        context.close()


def deeper_pages(who: str, patient: Patient, practitioner) -> list[str]:
    """Pages one step past the menu that hold the widest tables: the clinic's set-up for the
    manager, the patient's messages and clinical record for the practitioner."""
    if who == "manager_user":
        return [
            reverse("treatments:setup_rooms"),
            reverse("treatments:setup_session_types"),
            reverse("treatments:setup_staff"),
            reverse("treatments:setup_staff_hours", args=[practitioner.pk]),
            reverse("treatments:setup_opening_hours"),
            reverse("signin_locks"),
            reverse("clinical:screening_rules"),
            reverse("messaging:patient_messages", args=[patient.pk]),
        ]
    return [
        reverse("clinical:patient", args=[patient.pk]),
        reverse("clinical:consent_overview", args=[patient.pk]),
        reverse("messaging:patient_messages", args=[patient.pk]),
    ]


@pytest.mark.parametrize("who", ["manager_user", "practitioner_profile"])
def test_the_pages_past_the_menu_fit_a_phone_too(
    browser, live_server, request, who, clinic_day, practitioner_profile
):
    width, height = SCREENS["phone"]
    context = checked_context(browser, live_server.url, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        user = request.getfixturevalue(who)
        sign_in(page, live_server.url, getattr(user, "user", user))
        for path in deeper_pages(who, clinic_day, practitioner_profile):
            response = page.goto(path)  # axe-core runs here
            assert response is not None and response.status == 200, path
            assert_no_sideways_scroll(page, width)
            assert_scroll_regions_work_by_keyboard(page)
            page.set_viewport_size({"width": NARROWEST[0], "height": NARROWEST[1]})
            assert_no_sideways_scroll(page, NARROWEST[0])
            assert_scroll_regions_work_by_keyboard(page)
            page.set_viewport_size({"width": width, "height": height})
    finally:
        context.close()


def test_the_first_tab_reaches_a_skip_link_that_moves_to_the_main_content(
    page, live_server, front_desk_user, clinic_day
):
    sign_in(page, live_server.url, front_desk_user)
    page.goto(f"/patients/{clinic_day.pk}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement"), page.evaluate(
        "document.activeElement.outerHTML"
    )
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=[f"{w}px" for w, _ in WIDTHS])
def test_the_managers_menu_fits_from_a_phone_to_a_wide_screen(
    browser, live_server, manager_user, clinic, width, height
):
    context = checked_context(browser, live_server.url, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        sign_in(page, live_server.url, manager_user)
        page.goto("/patients/")
        toggler = page.get_by_role("button", name="Menu")
        if width < 1200:
            assert toggler.is_visible()
            toggler.click()
            page.locator("#nav.show").wait_for()
        else:
            assert not toggler.is_visible()
        for name in ("Calendar", "Patients", "Clinic set-up", "Audit log", "Log out"):
            item = (
                page.locator("nav")
                .get_by_role("link", name=name)
                .or_(page.locator("nav").get_by_role("button", name=name))
            )
            box = item.first.bounding_box()
            assert box is not None and item.first.is_visible(), name
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


def test_an_inline_script_tag_is_refused_by_the_policy_so_axe_goes_in_as_an_init_script(
    browser, live_server, clinic
):
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        with pytest.raises(Exception, match=r"Content Security Policy|script"):
            page.add_script_tag(path=str(axe_script()))
        assert page.evaluate("typeof window.axe") == "undefined"
        context.add_init_script(path=str(axe_script()))
        page.goto("/accounts/login/")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_the_patient_picker_works_with_arrow_keys_and_enter(page, live_server, front_desk_user):
    PatientFactory(first_name="Jane", last_name="Austen")
    PatientFactory(first_name="Janet", last_name="Austin")
    sign_in(page, live_server.url, front_desk_user)
    page.goto("/sessions/new/")
    search = page.get_by_role("combobox", name="Patient")
    search.fill("Aust")
    options = page.get_by_role("option")
    options.nth(1).wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    search.press("ArrowDown")
    search.press("ArrowDown")
    highlighted = page.locator("[role=option][aria-selected=true]")
    assert search.get_attribute("aria-activedescendant") == highlighted.get_attribute("id")
    name = highlighted.get_attribute("data-patient-label")
    search.press("ArrowUp")
    search.press("ArrowDown")
    search.press("Enter")
    assert page.locator("[data-patient-chosen-label]").inner_text() == name
    assert page.locator("input[name=patient]").input_value() == highlighted_id(name)
    # Enter picked the patient; it did not submit the booking form.
    assert "/sessions/new/" in page.url


def highlighted_id(label: str) -> str:
    first, last = label.split(" (")[0].split(" ", 1)
    return str(Patient.objects.get(first_name=first, last_name=last).pk)


# Issue 8 counted 27 Tab presses from the top of the calendar to its first free slot. Now 18 key
# presses: the skip link and Enter, then the calendar's 14 controls (the date field is four stops
# in Chromium: day, month, year and its picker), the column's heading link, and the slot.
TABS_TO_FIRST_SLOT = 18


def test_the_keyboard_reaches_the_calendars_first_free_slot_in_a_few_tabs(
    page, live_server, front_desk_user, clinic_day, practitioner_profile
):
    sign_in(page, live_server.url, front_desk_user)
    day = timezone.localdate() + dt.timedelta(days=7)
    page.goto(f"/calendar/?view=day&date={day.isoformat()}&practitioner={practitioner_profile.pk}")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    stops: list[str] = []
    while len(stops) < 40:
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                "(el => el.tagName + ' ' + (el.getAttribute('aria-label') || el.innerText || "
                "el.name || '').trim().slice(0, 30))(document.activeElement)"
            )
        )
        if page.evaluate("document.activeElement.classList.contains('cal-slot')"):
            break
    presses = len(stops)
    label = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
    assert label.startswith("Book "), page.evaluate("document.activeElement.outerHTML")
    assert presses + 2 <= TABS_TO_FIRST_SLOT, " | ".join(" ".join(s.split()) for s in stops)
