"""The desk rebooks a returning patient from their completed session: "Book next", one offered
free time, then "Book session" (2 clicks plus confirming), with nothing typed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.models import Session
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]


def test_the_desk_rebooks_from_a_completed_session_in_two_clicks_and_a_confirmation(
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
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    last = SessionFactory(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=timezone.now().replace(microsecond=0) - dt.timedelta(days=14),
        status=Session.Status.COMPLETED,
    )
    log_in(page, front_desk_user.username)
    page.goto(f"/sessions/{last.pk}/")

    clicks = 0
    page.get_by_role("link", name="Book next").click()
    clicks += 1
    offered = page.locator("[data-offered-slot]")
    offered.first.wait_for()
    assert offered.count() >= 3
    label = offered.first.inner_text()
    offered.first.click()
    clicks += 1
    page.wait_for_selector("[data-offered-slot][aria-current=true]")
    page.screenshot(path=screenshots / "rebook-form.png", full_page=True)
    assert page.locator("[data-patient-chosen-label]").inner_text().startswith("Jane Austen")
    page.get_by_role("button", name="Book session").click()  # confirming
    page.wait_for_url(lambda url: "/calendar/" in url)

    assert clicks == 2
    booked = Session.objects.get(patient=patient, status=Session.Status.BOOKED)
    assert (booked.session_type, booked.practitioner, booked.room) == (
        face,
        practitioner_profile,
        room,
    )
    local = timezone.localtime(booked.starts_at, clinic.zone)
    assert f"{local:%H:%M}" in label
    assert booked.starts_at > timezone.now()
    assert "Booked Face for Jane Austen" in page.content()
