"""Front desk books a session the way they click through it, and meets a slot taken meanwhile."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import check_each_page, log_in, menu_link
from treatments.models import Session

pytestmark = [pytest.mark.browser]


def _slot_day(today: dt.date) -> dt.date:
    """A Wednesday two to three weeks ahead: in the future, inside everyone's working hours."""
    day = today + dt.timedelta(days=14)
    return day + dt.timedelta(days=(2 - day.weekday()) % 7)


def test_front_desk_books_a_free_slot_and_cannot_book_it_twice(
    transactional_db,
    live_server,
    page_at_both_widths,
    screenshots,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    page = page_at_both_widths  # desktop, then a tablet (820 x 1180)
    PatientFactory(first_name="Jane", last_name="Austen", date_of_birth=dt.date(1975, 12, 16))
    PatientFactory(first_name="Emily", last_name="Bronte", date_of_birth=dt.date(1988, 7, 30))
    today = timezone.localdate(timezone.now(), clinic.zone)
    day = _slot_day(today)
    log_in(page, front_desk_user.username)

    # Find the patient from the Patients page.
    menu_link(page, "Patients").click()
    page.get_by_label("Search patients").fill("Austen")
    results = page.locator("#patient-results")
    results.get_by_text("matching").wait_for()
    assert results.get_by_role("link", name="Austen, Jane").is_visible()
    assert "Bronte" not in results.inner_text()

    # Week view of the first practitioner, moved forward with the calendar's own buttons.
    menu_link(page, "Calendar").click()
    page.wait_for_selector("#calendar[data-view=week]")
    weeks_ahead = (day - today).days // 7 + (day.weekday() < today.weekday())
    for _ in range(weeks_ahead):
        title = page.locator("#calendar-title").inner_text()
        page.get_by_role("link", name="Next week").click()
        page.wait_for_function(
            "t => document.querySelector('#calendar-title').innerText !== t", arg=title
        )
    # The calendar's session type (the first active one) and the room picked are in the name.
    slot_name = re.compile(
        rf"^Book .+ at 10:00 on {day:%a} {day.day} {day:%b} with Ada Doctor in Room 1$"
    )
    slot = page.get_by_role("link", name=slot_name)
    page.screenshot(path=screenshots / "calendar-week-before.png", full_page=True)
    slot_url = slot.get_attribute("href")
    slot.click()

    # A second receptionist opens the same free slot before the first one saves.
    other = page.context.new_page()
    check_each_page(other)
    other.goto(slot_url)

    # The first desk picks the patient with the picker and books.
    expect_value(page, "#id_date", day.isoformat())
    expect_value(page, "#id_time", "10:00")
    page.get_by_label("Patient").fill("Aust")
    page.locator("#patient-results [data-patient-id]").filter(has_text="Jane Austen").click()
    assert page.locator("[data-patient-chosen-label]").inner_text().startswith("Jane Austen")
    page.get_by_label("Session type").select_option(value=str(face.pk))
    page.get_by_role("button", name="Book session").click()

    page.wait_for_selector("#calendar")
    session = Session.objects.get()
    assert (
        page.locator(".alert-success")
        .inner_text()
        .startswith(f"Booked Face for Jane Austen on {day:%a} {day.day} {day:%b %Y} at 10:00")
    )
    block = page.locator(f"#session-{session.pk}")
    # The block shows a short name; its popover (hover, focus) the full one.
    assert "J. Austen" in block.inner_text()
    assert "Jane Austen" in block.locator(".cal-pop").text_content()
    assert "Booked" in block.inner_text()
    assert page.get_by_role("link", name=slot_name).count() == 0
    page.screenshot(path=screenshots / "calendar-week-booked.png", full_page=True)

    # The second desk, still on the old form, tries the same slot for another patient.
    other.get_by_label("Patient").fill("Bronte")
    other.locator("#patient-results [data-patient-id]").filter(has_text="Emily Bronte").click()
    other.get_by_label("Session type").select_option(value=str(face.pk))
    other.get_by_role("button", name="Book session").click()
    error = other.locator("#div_id_time .invalid-feedback")
    error.wait_for()
    assert "That slot was just taken" in error.inner_text()
    assert "Nothing was booked" in other.locator("#form-errors").inner_text()
    # The form kept the second desk's choices.
    assert other.locator("[data-patient-chosen-label]").inner_text().startswith("Emily Bronte")
    other.screenshot(path=screenshots / "booking-form-slot-taken.png", full_page=True)
    assert Session.objects.count() == 1
    other.close()


def expect_value(page, selector: str, value: str) -> None:
    assert page.locator(selector).input_value() == value


def test_the_day_view_lays_sessions_out_on_their_quarter_hours(
    transactional_db, live_server, page, screenshots, clinic, front_desk_user, room, room2, face
):
    from treatments.tests.factories import SessionFactory, StaffProfileFactory, UserFactory

    zone = clinic.zone
    day = _slot_day(timezone.localdate(timezone.now(), zone))
    people = [
        StaffProfileFactory(user=UserFactory(first_name=name, last_name=last))
        for name, last in (("Ada", "Doctor"), ("Ben", "Nurse"), ("Cleo", "Prescriber"))
    ]

    def at(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    long = SessionFactory(practitioner=people[0], room=room, session_type=face, starts_at=at(9))
    SessionFactory(practitioner=people[0], room=room, session_type=face, starts_at=at(11, 15))
    SessionFactory(
        practitioner=people[1],
        room=room2,
        session_type=face,
        starts_at=at(9),
        status=Session.Status.CANCELLED,
        patient=PatientFactory(first_name="Carl", last_name="Cancelled"),
    )
    SessionFactory(practitioner=people[2], room=room2, session_type=face, starts_at=at(14, 30))

    log_in(page, front_desk_user.username)
    page.goto(f"/calendar/?view=day&date={day.isoformat()}")
    page.screenshot(path=screenshots / "calendar-day.png", full_page=True)

    heights = page.eval_on_selector_all(
        ".cal-table tbody tr", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) - min(heights) < 1, "a row was stretched by its content"
    # 45 minutes plus a 15-minute buffer hold four rows from 09:00: the session three of
    # them, the hatched clean-up strip the fourth.
    held = page.locator(f"#session-{long.pk}").bounding_box()
    nine = page.locator("tbody th", has_text="09:00").bounding_box()
    assert abs(held["y"] - nine["y"]) < 1
    assert abs(held["height"] - 4 * heights[0]) < 2
    block = page.locator(f"#session-{long.pk} .cal-block").bounding_box()
    buffer = page.locator(f"#session-{long.pk} .cal-buffer").bounding_box()
    assert abs(block["height"] - 3 * heights[0]) < 8
    assert abs(buffer["height"] - heights[0]) < 8
    assert block["y"] + block["height"] <= buffer["y"]
    # The cancelled session is struck through inside the free 09:00 cell of its practitioner.
    freed = page.locator(".cal-freed", has_text="Carl Cancelled")
    assert freed.locator("s").count() == 1
    cell = freed.locator("xpath=ancestor::td[1]")
    assert "cal-free" in cell.get_attribute("class")
    inner, outer = freed.bounding_box(), cell.bounding_box()
    assert outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
    # Three practitioners fit side by side without a horizontal scroll bar.
    assert page.eval_on_selector(".cal-wrap", "el => el.scrollWidth <= el.clientWidth")


def test_the_date_picker_and_the_selector_swap_the_calendar_in_place(
    transactional_db, live_server, page, clinic, front_desk_user, practitioner_profile, room, room2
):
    log_in(page, front_desk_user.username)
    page.goto("/calendar/")
    page.evaluate("window.notReloaded = true")
    page.locator("#calendar input[type=date]").fill("2027-01-13")
    page.wait_for_function(
        "() => document.querySelector('#calendar-title').innerText === '11–17 January 2027'"
    )
    page.locator("#calendar-resource").click()
    page.get_by_role("link", name="Room 2").click()
    page.wait_for_function(
        "() => document.querySelector('#calendar-resource').innerText.trim() === 'Room 2'"
    )
    page.get_by_role("link", name="Day", exact=True).click()
    page.wait_for_selector("#calendar[data-view=day]")
    assert page.locator("#calendar-title").inner_text() == "Wednesday 13 January 2027"
    assert page.url.endswith(f"/calendar/?view=day&date=2027-01-13&room={room2.pk}")
    # htmx swapped the calendar without reloading the page, and kept the address bar in step.
    assert page.evaluate("window.notReloaded === true")
    page.go_back()
    page.wait_for_selector("#calendar[data-view=week]")
