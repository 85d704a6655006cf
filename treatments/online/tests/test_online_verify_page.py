"""The emailed link's page says what the click confirms (type, practitioner or "first
available", date and time in the clinic's zone) and nothing that would tell whether the email
belongs to a patient; opening it books nothing."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online.models import BookingRequest
from treatments.online.services import Applicant, online_link_make, online_request_create

from .conftest import START

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC)
DOB = dt.date(1990, 5, 1)


def _page(client, face, applicant: Applicant, practitioner=None) -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False):
        request = online_request_create(
            session_type=face, practitioner=practitioner, starts_at=START, applicant=applicant
        )
        token = online_link_make(request=request)
        response = client.get(reverse("online:verify", args=[token]))
    return response.status_code, response.content.decode().replace(token, "TOKEN")


def _main(html: str) -> str:
    """The page's own content (no CSRF tokens, which differ per response)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_the_page_shows_what_is_being_confirmed_in_the_clinic_s_zone(client, online):
    status, page = _page(
        client, online, Applicant(email="a@example.com", date_of_birth=DOB, is_new=False)
    )
    assert status == 200
    assert "Face" in page and "The first available practitioner" in page
    # START is 10:00 in London (09:00 UTC, British Summer Time).
    assert "Tuesday 3 June 2031" in page and "10:00" in page and "09:00" not in page
    assert "Confirm this booking" in page
    assert Session.objects.count() == 0
    assert BookingRequest.objects.get().status == BookingRequest.Status.AWAITING_EMAIL


def test_a_chosen_practitioner_is_named(client, online, practitioner_profile):
    applicant = Applicant(email="a@example.com", date_of_birth=DOB, is_new=False)
    status, page = _page(client, online, applicant, practitioner=practitioner_profile)
    assert status == 200 and "Ada Doctor" in page and "first available" not in page


def test_request_mode_says_nothing_is_booked_yet(client, online):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    status, page = _page(
        client, online, Applicant(email="a@example.com", date_of_birth=DOB, is_new=False)
    )
    assert status == 200 and "Confirm my request" in page and "Nothing is booked" in page


def test_the_page_is_the_same_for_a_patient_s_email_and_for_a_stranger_s(client, online):
    PatientFactory(
        first_name="Petra", last_name="Known", email="known@example.com", date_of_birth=DOB
    )
    _, known = _page(
        client, online, Applicant(email="known@example.com", date_of_birth=DOB, is_new=False)
    )
    _, stranger = _page(
        client, online, Applicant(email="nobody@example.com", date_of_birth=DOB, is_new=False)
    )
    assert "Petra" not in known and "known@example.com" not in known
    assert _main(known) == _main(stranger)
    new = Applicant(
        email="known@example.com",
        date_of_birth=DOB,
        is_new=True,
        first_name="Nina",
        last_name="New",
        phone="07700900123",
    )
    _, as_new = _page(client, online, new)
    assert "Nina" not in as_new and _main(as_new) == _main(stranger)


def test_a_used_or_tampered_link_shows_no_details(client, online):
    with time_machine.travel(NOW, tick=False):
        request = online_request_create(
            session_type=online,
            practitioner=None,
            starts_at=START,
            applicant=Applicant(email="a@example.com", date_of_birth=DOB, is_new=False),
        )
        token = online_link_make(request=request)
        assert client.post(reverse("online:verify", args=[token])).status_code == 200
        for link in (token, token[:-3] + "abc"):
            response = client.get(reverse("online:verify", args=[link]))
            assert response.status_code == 400
            assert "June 2031" not in response.content.decode()
