"""The desk's day view, everyone side by side: drag a session to move it, a refused drag says why
and leaves it where it was, the arrow keys and the "Move…" link do the same without a mouse, and
today's view has a line for now. At desktop width and at a tablet's (820 x 1180)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import check_each_page, checked_context, log_in
from treatments.models import Session, SessionType, StaffProfile, WorkingHours
from treatments.tests.factories import SessionFactory, StaffProfileFactory, UserFactory

pytestmark = [pytest.mark.browser]

VIEWPORTS = {"desktop": (1280, 800), "tablet": (820, 1180)}


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, browser, live_server) -> Iterator:
    width, height = VIEWPORTS[request.param]
    # axe-core checks every page it opens, as for every browser test (conftest.checked_context).
    context = checked_context(browser, live_server.url, viewport={"width": width, "height": height})
    # Anything the Content-Security-Policy blocked (an inline style or script) is collected.
    context.add_init_script(
        "window.cspViolations = []; document.addEventListener('securitypolicyviolation', "
        "e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    check_each_page(page)
    errors: list[str] = []
    # Script errors (an uncaught exception in calendar.js), not failed loads such as favicon.ico.
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    try:
        yield page
        if not page.is_closed() and page.url != getattr(page, "_axe_url", None):
            assert_accessible(page)
    finally:
        context.close()


def _future_wednesday(today: dt.date) -> dt.date:
    day = today + dt.timedelta(days=14)
    return day + dt.timedelta(days=(2 - day.weekday()) % 7)


@pytest.fixture
def day_setup(transactional_db, clinic, front_desk_user, practitioner_profile, room, room2, face):
    zone = clinic.zone
    day = _future_wednesday(timezone.localdate(timezone.now(), zone))

    def at(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    # A second doctor who works only the morning of that day.
    ben = StaffProfileFactory(
        user=UserFactory(first_name="Ben", last_name="Nurse"),
        qualification=StaffProfile.Qualification.NURSE,
        hours=False,
    )
    WorkingHours.objects.create(
        staff=ben, weekday=day.weekday(), starts=dt.time(8), ends=dt.time(12)
    )
    austen = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=at(10),
        patient=PatientFactory(first_name="Jane", last_name="Austen"),
    )
    bronte = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=at(12),
        patient=PatientFactory(first_name="Emily", last_name="Bronte"),
    )
    return {"day": day, "at": at, "austen": austen, "bronte": bronte, "ben": ben}


def _open_day(page, username: str, day: dt.date) -> None:
    log_in(page, username)
    # Free slots for the fixtures' Face type: without it the calendar offers the first active
    # type by name, which is another one while the migration's seeded types are still there
    # (the first transactional test of a run).
    face = SessionType.objects.filter(name="Face", active=True).first()
    chosen = f"&session_type={face.pk}" if face else ""
    page.goto(f"/calendar/?view=day&date={day.isoformat()}{chosen}")
    page.wait_for_selector("#calendar[data-view=day]")


def _row_of(page, session: Session) -> str:
    return page.locator(f"#session-{session.pk}").evaluate("td => td.parentElement.dataset.at")


def _column_of(page, session: Session) -> str:
    """The header text of the column the session sits in, found by position."""
    return page.locator(f"#session-{session.pk}").evaluate(
        """td => {
            const box = td.getBoundingClientRect();
            const x = box.left + box.width / 2;
            const head = [...document.querySelectorAll('thead th[data-day]')].find(th => {
                const b = th.getBoundingClientRect(); return x >= b.left && x < b.right; });
            return head ? head.innerText.split('\\n')[0].trim() : '';
        }"""
    )


def _drag(page, session: Session, target) -> None:
    """Press on the block's top-left corner, move a little (so that the drag starts on the
    block), then to the target's top-left corner, and let go. Both must be on screen: a drag
    that leaves the window is cancelled."""
    page.locator(f"#session-{session.pk}").evaluate(
        "td => { td.scrollIntoView({block: 'start'}); window.scrollBy(0, -140); }"
    )
    source = page.locator(f"#session-{session.pk} .cal-block").bounding_box()
    goal = target.bounding_box()
    page.mouse.move(source["x"] + 12, source["y"] + 6)
    page.mouse.down()
    page.mouse.move(source["x"] + 16, source["y"] + 12, steps=3)
    page.mouse.move(goal["x"] + 12, goal["y"] + 6, steps=8)
    page.mouse.move(goal["x"] + 13, goal["y"] + 6)
    page.mouse.up()


def test_the_day_view_shows_every_practitioner_and_a_drag_moves_a_session(
    live_server, sized_page, screenshots, day_setup, front_desk_user
):
    page, day, austen = sized_page, day_setup["day"], day_setup["austen"]
    _open_day(page, front_desk_user.username, day)
    heads = page.locator("thead th[data-day]").all_inner_texts()
    assert [h.split("\n")[0].strip() for h in heads] == ["Ada Doctor", "Ben Nurse"]
    assert _row_of(page, austen) == "10:00"

    target = page.get_by_role(
        "link", name=re.compile(rf"^Book .*at 11:00 on {day:%a} {day.day} {day:%b} with Ada")
    )
    _drag(page, austen, target)
    page.wait_for_function(
        f"() => document.querySelector('#session-{austen.pk}')"
        "?.parentElement.dataset.at === '11:00'"
    )
    assert _column_of(page, austen) == "Ada Doctor"
    assert "Moved Jane Austen's session" in page.locator("#calendar-status").text_content()
    austen.refresh_from_db()
    assert austen.starts_at == day_setup["at"](11)
    assert page.locator(".cal-refusal").count() == 0
    page.screenshot(path=screenshots / "calendar-day-dragged.png", full_page=True)
    assert not page.errors
    assert page.evaluate("window.cspViolations") == []


def test_a_drag_onto_another_session_or_outside_working_hours_is_refused_in_place(
    live_server, sized_page, screenshots, day_setup, front_desk_user
):
    page, austen, bronte = sized_page, day_setup["austen"], day_setup["bronte"]
    _open_day(page, front_desk_user.username, day_setup["day"])

    # Onto Emily Bronte's session at 12:00.
    _drag(page, austen, page.locator(f"#session-{bronte.pk}"))
    alert = page.locator(f"#session-{austen.pk} .cal-refusal")
    alert.wait_for()
    assert "Ada Doctor is already booked from 12:00 to 13:00" in alert.inner_text()
    assert alert.get_attribute("role") == "alert"
    assert _row_of(page, austen) == "10:00"
    page.screenshot(path=screenshots / "calendar-day-refused-taken.png", full_page=True)

    # Into Ben Nurse's column after noon, when he does not work.
    row = page.locator('tr[data-at="12:15"]')
    closed = row.locator("td").last
    assert "cal-closed" in closed.get_attribute("class")
    _drag(page, austen, closed)
    page.wait_for_function(
        f"() => document.querySelector('#session-{austen.pk} .cal-refusal')"
        "?.innerText.includes('Ben Nurse is not working')"
    )
    assert "Choose a time inside their working hours" in alert.inner_text()
    assert _row_of(page, austen) == "10:00"
    assert _column_of(page, austen) == "Ada Doctor"
    austen.refresh_from_db()
    assert austen.starts_at == day_setup["at"](10)
    assert austen.practitioner.user.first_name == "Ada"
    page.screenshot(path=screenshots / "calendar-day-refused-hours.png", full_page=True)
    assert page.evaluate("window.cspViolations") == []


def test_the_keyboard_moves_a_session_and_the_move_link_opens_a_filled_form(
    live_server, sized_page, day_setup, front_desk_user
):
    page, day, austen = sized_page, day_setup["day"], day_setup["austen"]
    _open_day(page, front_desk_user.username, day)
    block = page.locator(f"#session-{austen.pk} .cal-block")
    block.focus()
    # Focus shows the full name and the "Move…" link in the popover.
    popover = page.locator(f"#session-{austen.pk} .cal-pop")
    assert popover.is_visible()
    assert "Jane Austen" in popover.inner_text()
    assert "J. Austen" in block.inner_text()

    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        f"() => document.querySelector('#session-{austen.pk}')"
        "?.parentElement.dataset.at === '10:15'"
    )
    # Focus comes back to the moved session, so the next key goes on moving it.
    page.wait_for_function(
        f"() => document.activeElement?.closest('td')?.id === 'session-{austen.pk}'"
    )
    page.keyboard.press("ArrowUp")
    page.wait_for_function(
        f"() => document.querySelector('#session-{austen.pk}')"
        "?.parentElement.dataset.at === '10:00'"
    )
    austen.refresh_from_db()
    assert austen.starts_at == day_setup["at"](10)

    # Right: Ben Nurse's column, same time (he works until noon).
    page.wait_for_function(
        f"() => document.activeElement?.closest('td')?.id === 'session-{austen.pk}'"
    )
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector('#session-{austen.pk}') && "
        f"document.querySelector('#session-{austen.pk}').getBoundingClientRect().left > "
        "document.querySelectorAll('thead th[data-day]')[1].getBoundingClientRect().left - 1"
    )
    assert _column_of(page, austen) == "Ben Nurse"
    austen.refresh_from_db()
    assert austen.practitioner == day_setup["ben"]

    # The "Move…" link: the form opens with the session's date, time and people filled in.
    page.locator(f"#session-{austen.pk} .cal-block").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/sessions/{austen.pk}/move/")
    assert page.locator("#id_date").input_value() == day.isoformat()
    assert page.locator("#id_time").input_value() == "10:00"


def test_todays_view_draws_a_line_at_the_current_time(
    live_server, sized_page, clinic, front_desk_user, practitioner_profile
):
    page = sized_page
    zone = clinic.zone
    today = timezone.localdate(timezone.now(), zone)
    # The browser's clock at 10:07 in the clinic, today (the server renders today's grid).
    page.clock.set_fixed_time(dt.datetime.combine(today, dt.time(10, 7), tzinfo=zone))
    _open_day(page, front_desk_user.username, today)
    page.wait_for_selector("tr.cal-now")
    assert page.locator("tr.cal-now").get_attribute("data-at") == "10:00"
    assert "cal-now-m7" in page.locator("tr.cal-now").get_attribute("class")
    line = page.locator("tr.cal-now > th").evaluate(
        "th => getComputedStyle(th, '::after').getPropertyValue('top')"
    )
    row_height = page.locator("tr.cal-now").bounding_box()["height"]
    assert abs(float(line.removesuffix("px")) - row_height * 7 / 15) < 1.5
