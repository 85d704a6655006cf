"""A practitioner starts a course; the front desk books its sessions in two clicks.

And the manager takes a product and a lot into stock and opens the lot's recall list.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest

from patients.tests.factories import PatientFactory
from tests.browser.conftest import check_each_page, checked_context, log_in
from treatments.courses.models import Course
from treatments.courses.tests.factories import ProtocolFactory
from treatments.products.models import Lot

pytestmark = [pytest.mark.browser]


def test_a_course_is_created_and_all_its_sessions_booked(
    transactional_db,
    live_server,
    browser,
    page,
    screenshots,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    ProtocolFactory(
        name="Skin rejuvenation (test)",
        sessions_count=4,
        interval_min_days=14,
        interval_max_days=21,
        default_session_type=face,
    )
    patient = PatientFactory(first_name="Jane", last_name="Austen")

    log_in(page, practitioner_profile.user.username)
    page.goto(f"/courses/patient/{patient.pk}/new/")
    page.get_by_label("Protocol").select_option(label="Skin rejuvenation (test)")
    page.get_by_label("Practitioner").select_option(label="Ada Doctor")
    page.get_by_role("button", name="Create course").click()
    page.get_by_text("0 of 4 sessions done").wait_for()
    course = Course.objects.get()
    assert page.get_by_role("button", name="Book", exact=True).count() == 4

    # The front desk, on another browser context, books everything.
    context = checked_context(browser, live_server.url)
    desk = context.new_page()
    check_each_page(desk)
    log_in(desk, front_desk_user.username)
    desk.goto(f"/courses/{course.pk}/")
    desk.get_by_role("button", name="Book", exact=True).first.click()
    desk.get_by_text("Session 1 booked.").wait_for()
    desk.get_by_role("button", name="Book all proposed").click()
    desk.get_by_text("Booked sessions 2, 3, 4.").wait_for()
    desk.screenshot(path=screenshots / "course-detail-booked.png", full_page=True)
    assert desk.get_by_role("button", name="Book all proposed").count() == 0
    assert course.steps.filter(session__isnull=False).count() == 4
    days = [
        step.session.starts_at.date()
        for step in course.steps.select_related("session").order_by("number")
    ]
    gaps = [(later - earlier).days for earlier, later in pairwise(days)]
    assert all(14 <= gap <= 21 for gap in gaps)
    context.close()


def test_the_manager_takes_a_lot_into_stock_and_opens_its_recall(
    transactional_db, live_server, page, screenshots, clinic, manager_user
):
    log_in(page, manager_user.username)
    page.goto("/products/new/")
    page.locator("#id_name").fill("Hydra Boost")
    page.get_by_label("Manufacturer").fill("Meso Labs")
    page.get_by_label("Ingredients").fill("Hyaluronic acid; 10 mg/ml\nGlycine")
    page.get_by_label("Registration body").fill("MHRA")
    page.get_by_label("Registration number").fill("CE-2797-001")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Hydra Boost (Meso Labs) saved.").wait_for()
    page.get_by_role("link", name="Receive a lot").click()
    page.get_by_label("Lot number").fill("HB-2031-07")
    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
    page.get_by_label("Expiry date").fill(soon.isoformat())
    page.get_by_label("Quantity received (ml)").fill("30")
    page.get_by_role("button", name="Take into stock").click()
    page.get_by_text("Lot HB-2031-07 taken into stock.").wait_for()
    page.screenshot(path=screenshots / "product-detail.png", full_page=True)

    page.get_by_role("link", name="Stock warnings").click()
    page.get_by_text("Expires soon:").wait_for()
    page.screenshot(path=screenshots / "stock-warnings.png", full_page=True)

    page.get_by_role("link", name="Recall").click()
    page.get_by_placeholder("Lot number or product").fill("HB-2031")
    page.get_by_role("button", name="Find lots").click()
    page.get_by_role("link", name="HB-2031-07").click()
    page.get_by_text("No signed session record has used this lot.").wait_for()
    assert Lot.objects.get().lot_number == "HB-2031-07"
