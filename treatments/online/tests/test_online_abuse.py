"""The public booking page against misuse, over HTTP: which session types it offers and to
whom; the same answer (status, address and body) whether or not an email is a patient's; the
same neutral page for a "do not book" patient as for a stranger; tampered, expired and reused
links that change nothing; guessing links answered 429; a likely duplicate shown to the desk
and never merged."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from mesoclinic.errors import DomainError
from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.messaging.models import OutboxMessage, UsedLink
from treatments.models import Clinic, OnlineBooking, Session, SessionType
from treatments.online.models import BookingRequest
from treatments.online.services import (
    Applicant,
    online_link_make,
    online_request_confirm,
    online_request_create,
)
from treatments.tests.factories import SessionTypeFactory

from .conftest import DAY, START

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC)
CSRF = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _same(body: bytes) -> str:
    """A page's text without the per-response CSRF token (masked afresh on every response)."""
    return CSRF.sub(r"\1…", body.decode())


@pytest.fixture
def follow_up(online):
    return SessionTypeFactory(
        name="Follow-up", duration_minutes=30, buffer_minutes=10, bookable_online=True
    )


def _query(session_type) -> str:
    return f"?session_type={session_type.pk}&practitioner=&day={DAY.isoformat()}"


def _form(email="nina@example.com", dob="1990-05-01", is_new="1", slot=START) -> dict:
    return {
        "slot": slot.isoformat(),
        "is_new": is_new,
        "email": email,
        "date_of_birth": dob,
        "first_name": "Nina",
        "last_name": "New",
        "phone": "07700900123",
    }


def test_the_page_offers_only_the_types_the_clinic_allows_online(client, online, follow_up):
    SessionTypeFactory(name="Deep scalp", bookable_online=False)
    SessionTypeFactory(name="Old peel", bookable_online=True, active=False)
    page = client.get(reverse("online:book")).content.decode()
    types = page[page.index('name="session_type"') : page.index("</select>")]
    offered = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', types)
    # A type new patients may not book says so before anyone chooses it.
    assert offered == ["Face", "Follow-up (if you have been to the clinic)"]


def test_a_type_not_bookable_online_shows_no_times_and_is_refused(client, online):
    hidden = SessionTypeFactory(name="Deep scalp", bookable_online=False)
    page = client.get(reverse("online:book") + _query(hidden)).content.decode()
    assert 'name="slot"' not in page
    with pytest.raises(DomainError, match="cannot be booked online"):
        online_request_create(
            session_type=hidden,
            practitioner=None,
            starts_at=START,
            applicant=Applicant(
                email="a@example.com", date_of_birth=dt.date(1990, 1, 1), is_new=False
            ),
        )


@time_machine.travel(NOW, tick=False)
def test_a_new_patient_may_book_only_a_consultation_type(client, follow_up):
    response = client.post(reverse("online:book") + _query(follow_up), _form())
    assert response.status_code == 200
    assert "New patients can book only a consultation online" in response.content.decode()
    assert not BookingRequest.objects.exists() and not OutboxMessage.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_an_existing_patient_may_book_a_follow_up_type(client, follow_up):
    PatientFactory(email="olive@example.com", date_of_birth=dt.date(1970, 3, 2))
    form = _form(email="olive@example.com", dob="1970-03-02", is_new="0")
    response = client.post(reverse("online:book") + _query(follow_up), form)
    assert response.status_code == 302
    request = BookingRequest.objects.get()
    assert online_request_confirm(token=online_link_make(request=request)).outcome == "booked"
    assert Session.objects.get().session_type == follow_up


@time_machine.travel(NOW, tick=False)
def test_the_answer_is_the_same_whether_or_not_the_email_is_a_patient_s(client, online):
    PatientFactory(email="known@example.com", date_of_birth=dt.date(1990, 5, 1))
    answers = []
    for i, (email, is_new) in enumerate(
        [
            ("known@example.com", "0"),  # a patient, right birth date
            ("unknown@example.com", "0"),  # nobody
            ("known@example.com", "1"),  # a patient's address typed as a new patient
        ]
    ):
        url = reverse("online:book") + _query(online)
        response = client.post(url, _form(email=email, is_new=is_new), REMOTE_ADDR=f"10.4.0.{i}")
        followed = client.get(response["Location"])
        answers.append(
            (response.status_code, response["Location"], response.content, _same(followed.content))
        )
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 302 and "Check your email" in answers[0][3]
    # Each address gets its email, so a stranger learns nothing from the mail server either.
    assert OutboxMessage.objects.count() == 3


def _clicked(client, applicant) -> tuple[int, str]:
    request = online_request_create(
        session_type=SessionType.objects.get(name="Face"),
        practitioner=None,
        starts_at=START,
        applicant=applicant,
    )
    response = client.post(reverse("online:verify", args=[online_link_make(request=request)]))
    return response.status_code, _same(response.content)


def test_a_do_not_book_patient_sees_the_same_neutral_page_as_a_stranger(client, online):
    held = PatientFactory(email="held@example.com", booking_hold=True)
    refused = _clicked(
        client, Applicant(email=held.email, date_of_birth=held.date_of_birth, is_new=False)
    )
    stranger = _clicked(
        client,
        Applicant(email="nobody@example.com", date_of_birth=dt.date(1970, 1, 1), is_new=False),
    )
    assert refused == stranger
    assert refused[0] == 200 and "Please call the clinic" in refused[1]
    assert "hold" not in refused[1].lower() and "screening" not in refused[1].lower()
    assert Session.objects.count() == 0


def _state() -> tuple:
    return (
        Session.objects.count(),
        Patient.objects.count(),
        sorted(BookingRequest.objects.values_list("status", flat=True)),
        OutboxMessage.objects.count(),
        UsedLink.objects.count(),
    )


@pytest.mark.parametrize("how", ["tampered", "expired", "reused", "made up"])
def test_a_bad_link_changes_nothing(client, online, how):
    with time_machine.travel(NOW, tick=False):
        request = online_request_create(
            session_type=online,
            practitioner=None,
            starts_at=START,
            applicant=Applicant(
                email="nina@example.com",
                date_of_birth=dt.date(1990, 5, 1),
                is_new=True,
                first_name="Nina",
                last_name="New",
                phone="07700900123",
            ),
        )
        token = online_link_make(request=request)
    when = NOW + (dt.timedelta(minutes=31) if how == "expired" else dt.timedelta(minutes=1))
    with time_machine.travel(when, tick=False):
        if how == "reused":
            assert client.post(reverse("online:verify", args=[token])).status_code == 200
        elif how == "tampered":
            token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
        elif how == "made up":
            token = "eyJyIjoxfQ:1abcde:abcdefghijklmnopqrstuvwxyz0"
        before = _state()
        shown = client.get(reverse("online:verify", args=[token]))
        clicked = client.post(reverse("online:verify", args=[token]))
        assert _state() == before
    assert shown.status_code == clicked.status_code == 400
    assert "This link no longer works" in clicked.content.decode()
    assert "Nothing has been changed" in clicked.content.decode()


def test_guessing_links_from_one_address_is_answered_429(client, online, settings):
    settings.PUBLIC_LINK_RATE_LIMIT = "3/m"
    codes = [
        client.post(reverse("online:verify", args=[f"guess{i}"])).status_code for i in range(4)
    ]
    assert codes == [400, 400, 400, 429]


def test_a_likely_duplicate_is_shown_to_the_desk_and_never_merged(
    front_desk, front_desk_user, online
):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    earlier = PatientFactory(
        first_name="Nina", last_name="New", date_of_birth=dt.date(1990, 5, 1), email=""
    )
    request = online_request_create(
        session_type=online,
        practitioner=None,
        starts_at=START,
        applicant=Applicant(
            email="nina@example.com",
            date_of_birth=dt.date(1990, 5, 1),
            is_new=True,
            first_name="Nina",
            last_name="New",
            phone="07700900123",
        ),
    )
    online_request_confirm(token=online_link_make(request=request))
    listed = front_desk.get(reverse("online:requests")).content.decode()
    assert f"Possible duplicate of patient(s) {earlier.pk}" in listed
    front_desk.post(reverse("online:request_decide", args=[request.pk]), {"decision": "approve"})
    session = Session.objects.get()
    assert session.patient != earlier and Patient.objects.count() == 2
    assert f"Possible duplicate of patient(s) {earlier.pk}" in session.notes
    earlier.refresh_from_db()
    assert earlier.email == "" and earlier.phone != "07700900123"
