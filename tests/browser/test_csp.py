"""The pages still work under the enforced Content-Security-Policy: the signature pad signs a
consent, the zone map ticks areas on the record page, htmx refreshes the booking form (patient
picker, course step) and the calendar, and the browser reports no policy violation on the way."""

from __future__ import annotations

import datetime as dt
import importlib
from urllib.parse import urlencode

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.clinic_time import combine
from treatments.clinical.models import ConsentSignature, ScreeningRule
from treatments.courses.services import course_book_step, course_create
from treatments.courses.tests.factories import ProtocolFactory
from treatments.models import Session
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]

# Runs before any page script (through the DevTools protocol, which the policy does not govern).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


class PolicyWatch:
    """Every CSP violation the pages report, from the console and from the DOM event, and any
    complaint about the Permissions-Policy header."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.headers: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            self.console.append(text)
        if "Permissions-Policy" in text:  # e.g. a feature name the browser does not know
            self.console.append(text)

    def _response(self, response) -> None:
        if response.request.resource_type == "document":
            self.headers.append(response.headers.get("content-security-policy", ""))

    def events(self) -> list[str]:
        return self.page.evaluate("() => window.__cspViolations || []")

    def assert_clean(self) -> None:
        assert self.headers, "no page was loaded"
        assert all("script-src 'self'" in header for header in self.headers), self.headers
        assert self.console == []
        assert self.events() == []


@pytest.fixture
def watch(page) -> PolicyWatch:
    return PolicyWatch(page)


def _seed_clinical_defaults() -> None:
    # Transactional tests flush the tables, data migrations included; put the defaults back.
    if not ScreeningRule.objects.exists():
        migration = importlib.import_module(
            "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
        )
        migration.seed(django_apps, None)


def test_the_signature_pad_and_the_zone_map_work_under_the_policy(
    transactional_db, live_server, page, watch, clinic, practitioner_profile, room, face
):
    _seed_clinical_defaults()
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    session = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=40),
        status=Session.Status.ARRIVED,
    )
    log_in(page, practitioner_profile.user.username)

    # Consent: a signature drawn on the canvas (static/js/signature-pad.js) is what is stored.
    page.goto(reverse("clinical:consent_overview", args=[patient.pk]))
    page.get_by_role("row", name="Face v1").get_by_role("link", name="Take consent").click()
    page.get_by_label("Patient's full name").fill("Jane Austen")
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 30, box["y"] + 120 - (step % 3) * 35, steps=3)
    page.mouse.up()
    page.get_by_label("The patient has read the text").check()
    page.get_by_role("button", name="Sign consent").click()
    page.get_by_text("Consent signed (version 1)").wait_for()
    drawn = Image.open(ConsentSignature.objects.get(patient=patient).signature.path)
    assert drawn.getchannel("A").getextrema()[1] > 0
    # The signature's page shows the stored drawing (img-src 'self').
    page.goto(reverse("clinical:consent_overview", args=[patient.pk]))

    # The record page's zone map (static/js/zone-map.js) and its boxes mirror each other.
    page.goto(reverse("clinical:record", args=[session.pk]))
    forehead = page.locator("svg [data-zone=forehead]")
    forehead.click()
    assert page.get_by_label("Forehead").is_checked()
    assert "on" in forehead.get_attribute("class")
    page.get_by_label("Cheeks").check()
    assert all("on" in c.get_attribute("class") for c in page.locator("[data-zone=cheeks]").all())
    # Its look comes from mesoclinic.css now that the SVG carries no style element.
    fill = forehead.evaluate("e => getComputedStyle(e).fill")
    assert fill != page.locator("svg [data-zone=neck]").evaluate("e => getComputedStyle(e).fill")
    watch.assert_clean()


def test_the_calendar_and_the_htmx_booking_form_work_under_the_policy(
    transactional_db,
    live_server,
    page,
    watch,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    protocol = ProtocolFactory(
        name="Skin glow (test)",
        sessions_count=4,
        interval_min_days=14,
        interval_max_days=21,
        default_session_type=face,
    )
    patient = PatientFactory(first_name="Cora", last_name="Course")
    course = course_create(
        patient=patient, protocol=protocol, practitioner=practitioner_profile, room=room
    )
    first_day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=7)
    course_book_step(
        course=course, step_number=1, starts_at=combine(first_day, dt.time(10), clinic.zone)
    )
    log_in(page, front_desk_user.username)

    # The calendar renders its grid: column count and session blocks come from classes.
    week = {"view": "week", "date": first_day.isoformat(), "practitioner": practitioner_profile.pk}
    page.goto(f"{reverse('treatments:calendar')}?{urlencode(week)}")
    page.wait_for_selector("#calendar[data-view=week]")
    block = page.locator(".cal-session .cal-block").first
    block.wait_for()
    assert block.bounding_box()["height"] > 20
    table = page.locator(".cal-table")
    assert table.evaluate("t => getComputedStyle(t).getPropertyValue('--cal-cols').trim()") == "7"
    # Moving a week on is an htmx swap.
    title = page.locator("#calendar-title").inner_text()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_function(
        "t => document.querySelector('#calendar-title').innerText !== t", arg=title
    )

    # The patient search's indicator is hidden by mesoclinic.css, not by an injected style.
    page.get_by_role("link", name="Patients", exact=True).click()
    spinner = page.locator("#search-spinner")
    assert spinner.evaluate("e => getComputedStyle(e).opacity") == "0"
    page.get_by_label("Search patients").fill("Course")
    page.locator("#patient-results").get_by_role("link", name="Course, Cora").wait_for()

    # The booking form: the picker (htmx) and the course step it refreshes (htmx).
    day = first_day + dt.timedelta(days=15)
    query = {"date": day.isoformat(), "time": "10:00"}
    query |= {"practitioner": practitioner_profile.pk, "room": room.pk}
    page.goto(f"{reverse('treatments:session_create')}?{urlencode(query)}")
    page.get_by_label("Patient").fill("Course")
    page.locator("#patient-results [data-patient-id]").filter(has_text="Cora Course").click()
    page.get_by_label("Count as step 2 of 4").wait_for()
    page.get_by_label("Session type").select_option(value=str(face.pk))
    page.wait_for_function("() => document.querySelector('[name=course_step]:checked').value")
    page.get_by_role("button", name="Book session").click()
    page.wait_for_selector("#calendar")
    assert "Counted as Face course, session 2 of 4" in page.locator(".alert-success").inner_text()
    watch.assert_clean()


def test_the_policy_is_enforced_and_a_violation_would_be_caught(
    transactional_db, live_server, page, watch, front_desk_user
):
    log_in(page, front_desk_user.username)
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__injected = true";
          document.head.appendChild(s);
          const st = document.createElement("div");
          st.setAttribute("style", "color: red");
          document.body.appendChild(st);
        }"""
    )
    page.wait_for_function("() => window.__cspViolations.length >= 2")
    assert page.evaluate("() => window.__injected") is None
    assert any("script-src" in event for event in watch.events())
    assert any("style-src" in event for event in watch.events())
    with pytest.raises(AssertionError):
        watch.assert_clean()
