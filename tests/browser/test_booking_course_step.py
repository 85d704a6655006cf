"""The front desk books a course patient's next session from the ordinary booking form."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.clinic_time import combine
from treatments.courses.services import course_book_step, course_create
from treatments.courses.tests.factories import ProtocolFactory

pytestmark = [pytest.mark.browser]


def test_picking_a_course_patient_offers_the_next_step_and_booking_links_it(
    transactional_db,
    live_server,
    page,
    screenshots,
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
    day = first_day + dt.timedelta(days=15)
    log_in(page, front_desk_user.username)
    query = {
        "date": day.isoformat(),
        "time": "10:00",
        "practitioner": practitioner_profile.pk,
        "room": room.pk,
    }
    page.goto(f"{reverse('treatments:session_create')}?{urlencode(query)}")

    page.get_by_label("Patient").fill("Course")
    page.locator("#patient-results [data-patient-id]").filter(has_text="Cora Course").click()
    choice = page.get_by_label("Count as step 2 of 4")
    choice.wait_for()
    assert page.get_by_text("The chosen date is inside the window.").is_visible()
    assert not choice.is_checked()  # no session type chosen yet
    page.get_by_label("Session type").select_option(value=str(face.pk))
    page.wait_for_function("() => document.querySelector('[name=course_step]:checked').value")
    assert page.get_by_label("Count as step 2 of 4").is_checked()
    page.screenshot(path=screenshots / "booking-form-course-step.png", full_page=True)
    page.get_by_role("button", name="Book session").click()

    page.wait_for_selector("#calendar")
    success = page.locator(".alert-success").inner_text()
    assert "Counted as Face course, session 2 of 4." in success
    assert "Skin glow" not in page.content()  # the protocol's name is not for the desk
    assert course.steps.get(number=2).session.starts_at == combine(day, dt.time(10), clinic.zone)
