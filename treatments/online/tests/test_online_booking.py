import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from mesoclinic.errors import DomainError
from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.messaging.models import Kind, OutboxMessage
from treatments.messaging.render import message_email
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online import services
from treatments.online.models import BookingRequest
from treatments.online.selectors import free_slots, free_slots_between
from treatments.online.services import (
    Applicant,
    Outcome,
    online_link_make,
    online_request_confirm,
    online_request_create,
    online_request_decide,
)
from treatments.tests.factories import RoomFactory, SessionFactory, StaffProfileFactory

from .conftest import DAY, LONDON, START

pytestmark = pytest.mark.django_db

NEW = Applicant(
    email="new@example.com",
    date_of_birth=dt.date(1990, 5, 1),
    is_new=True,
    first_name="Nina",
    last_name="New",
    phone="07700900123",
)


def _request(face, applicant=NEW, starts_at=START, practitioner=None):
    return online_request_create(
        session_type=face, practitioner=practitioner, starts_at=starts_at, applicant=applicant
    )


def test_free_slots_skip_a_booked_practitioner_slot_and_its_buffer(online, practitioner_profile):
    SessionFactory(
        practitioner=practitioner_profile,
        session_type=online,
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=45),
        blocked_until=START + dt.timedelta(minutes=60),
    )
    starts = [s.starts_at for s in free_slots(session_type=online, day=DAY, zone=LONDON)]
    # 45 min + 15 min buffer: nothing from 09:15 (ends 10:15 > 10:00) to 10:45 exclusive.
    assert START - dt.timedelta(minutes=60) in starts
    assert START - dt.timedelta(minutes=45) not in starts
    assert START not in starts
    assert START + dt.timedelta(minutes=60) in starts
    # Working hours 08:00-20:00: the last start is 19:15, whose 45 minutes end at closing; its
    # clean-up may run past closing, as at the desk (the same engine: treatments/availability.py).
    local = [s.astimezone(LONDON).time() for s in starts]
    assert local[0] == dt.time(8) and local[-1] == dt.time(19, 15)


def test_free_slots_read_for_several_days_at_once_are_each_days_own(online, practitioner_profile):
    # A session on the first day and one on the second: read together, each day's starts are
    # the ones a one-day read gives, split by local date.
    SessionFactory(
        practitioner=practitioner_profile,
        session_type=online,
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=45),
        blocked_until=START + dt.timedelta(minutes=60),
    )
    late = START + dt.timedelta(days=1, hours=9)
    SessionFactory(
        practitioner=practitioner_profile,
        session_type=online,
        starts_at=late,
        ends_at=late + dt.timedelta(minutes=45),
        blocked_until=late + dt.timedelta(minutes=60),
    )
    now = START - dt.timedelta(days=1)
    week = free_slots_between(session_type=online, first_day=DAY, days=3, zone=LONDON, now=now)
    together: dict[dt.date, list] = {DAY + dt.timedelta(days=d): [] for d in range(3)}
    for slot in week:
        together[slot.starts_at.astimezone(LONDON).date()].append(slot)
    for day, slots in together.items():
        assert slots == free_slots(session_type=online, day=day, zone=LONDON, now=now)
        assert all(s.starts_at.astimezone(LONDON).date() == day for s in slots)
    assert together[DAY] and together[DAY + dt.timedelta(days=1)]
    assert START not in [s.starts_at for s in together[DAY]]
    assert late not in [s.starts_at for s in together[DAY + dt.timedelta(days=1)]]


def test_a_request_queues_one_verification_email_and_books_nothing(online):
    request = _request(online)
    assert Session.objects.count() == 0
    message = OutboxMessage.objects.get(booking_request=request)
    assert message.kind == Kind.ONLINE_VERIFY and message.to_email == "new@example.com"
    assert message.status == "pending"


def test_the_link_books_a_new_patient_once(online):
    request = _request(online)
    token = online_link_make(request=request)
    result = online_request_confirm(token=token)
    assert result.outcome == Outcome.BOOKED
    session = Session.objects.get()
    assert session.starts_at == START and session.patient.email == "new@example.com"
    assert OutboxMessage.objects.get(kind=Kind.ONLINE_VERIFY).patient == session.patient
    again = online_request_confirm(token=token)
    assert again.outcome == Outcome.INVALID
    assert Session.objects.count() == 1 and Patient.objects.count() == 1


def test_a_tampered_link_changes_nothing(online):
    token = online_link_make(request=_request(online))
    assert online_request_confirm(token=token[:-2] + "xx").outcome == Outcome.INVALID
    assert Session.objects.count() == 0
    assert BookingRequest.objects.get().status == BookingRequest.Status.AWAITING_EMAIL


def test_an_expired_link_changes_nothing(online):
    with time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False):
        token = online_link_make(request=_request(online))
    with time_machine.travel(dt.datetime(2031, 6, 1, 9, 31, tzinfo=dt.UTC), tick=False):
        assert online_request_confirm(token=token).outcome == Outcome.INVALID
    assert Session.objects.count() == 0 and Patient.objects.count() == 0


def test_a_do_not_book_patient_gets_the_neutral_please_call_answer(online):
    patient = PatientFactory(email="held@example.com", booking_hold=True)
    applicant = Applicant(
        email="held@example.com", date_of_birth=patient.date_of_birth, is_new=False
    )
    result = online_request_confirm(token=online_link_make(request=_request(online, applicant)))
    assert result.outcome == Outcome.CALL
    assert Session.objects.count() == 0


def test_an_unknown_existing_patient_gets_the_same_neutral_answer(online):
    applicant = Applicant(
        email="nobody@example.com", date_of_birth=dt.date(1970, 1, 1), is_new=False
    )
    request = _request(online, applicant)
    assert OutboxMessage.objects.filter(booking_request=request).count() == 1
    result = online_request_confirm(token=online_link_make(request=request))
    assert result.outcome == Outcome.CALL and Session.objects.count() == 0


def test_a_taken_slot_offers_the_nearest_free_ones(online, practitioner_profile):
    token = online_link_make(request=_request(online, practitioner=practitioner_profile))
    SessionFactory(
        practitioner=practitioner_profile,
        session_type=online,
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=45),
        blocked_until=START + dt.timedelta(minutes=60),
    )
    result = online_request_confirm(token=token)
    assert result.outcome == Outcome.TAKEN
    assert len(result.alternatives) == 3
    assert all(abs(s.starts_at - START) <= dt.timedelta(hours=2) for s in result.alternatives)
    assert Session.objects.count() == 1


def test_a_likely_duplicate_new_patient_is_flagged_never_merged(online):
    PatientFactory(first_name="Nina", last_name="New", date_of_birth=NEW.date_of_birth)
    request = _request(online)
    online_request_confirm(token=online_link_make(request=request))
    request.refresh_from_db()
    assert "Possible duplicate" in request.duplicate_note
    assert Patient.objects.count() == 2


def test_request_mode_waits_for_the_desk_and_tells_the_patient(online, front_desk_user):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    request = _request(online)
    assert online_request_confirm(token=online_link_make(request=request)).outcome == (
        Outcome.REQUESTED
    )
    assert Session.objects.count() == 0
    request.refresh_from_db()
    online_request_decide(request=request, approve=True, by=front_desk_user)
    assert Session.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_APPROVED, to_email=NEW.email).exists()


def test_a_declined_request_is_told_and_books_nothing(online, front_desk_user):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    request = _request(online)
    online_request_confirm(token=online_link_make(request=request))
    request.refresh_from_db()
    online_request_decide(request=request, approve=False, by=front_desk_user)
    assert Session.objects.count() == 0
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED).exists()


def _post(client, face, email, dob="1990-05-01", ip="10.0.0.1", is_new="0"):
    query = f"?session_type={face.pk}&practitioner=&day={DAY.isoformat()}"
    return client.post(
        reverse("online:book") + query,
        {
            "slot": START.isoformat(),
            "is_new": is_new,
            "email": email,
            "date_of_birth": dob,
            "first_name": "Nina",
            "last_name": "New",
            "phone": "07700900123",
        },
        REMOTE_ADDR=ip,
    )


@time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_known_and_unknown_emails_get_the_same_answer(client, online):
    patient = PatientFactory(email="known@example.com", date_of_birth=dt.date(1990, 5, 1))
    known = _post(client, online, patient.email, ip="10.0.0.2")
    unknown = _post(client, online, "unknown@example.com", ip="10.0.0.3")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("online:check_email")
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_VERIFY).count() == 2


@time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_one_email_is_limited_whatever_the_address(client, online, settings):
    settings.ONLINE_BOOKING_EMAIL_RATE = "3/h"
    codes = [_post(client, online, "a@example.com", ip=f"10.1.0.{i}").status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert OutboxMessage.objects.count() == 3


@time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_one_address_is_limited_whatever_the_email(client, online, settings):
    settings.ONLINE_BOOKING_IP_RATE = "2/h"
    codes = [
        _post(client, online, f"p{i}@example.com", ip="10.2.0.1").status_code for i in range(3)
    ]
    assert codes == [302, 302, 429]
    assert OutboxMessage.objects.count() == 2


@time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_the_emailed_link_shows_a_button_and_books_on_post(client, online):
    assert _post(client, online, NEW.email, is_new="1").status_code == 302
    message = OutboxMessage.objects.get()
    body = message_email(message, clinic=Clinic.objects.get()).body
    url = re.search(r"https?://\S+/book/confirm/\S+/", body).group(0)
    path = url[url.index("/book/") :]
    assert client.get(path).status_code == 200
    assert Session.objects.count() == 0
    response = client.post(path)
    assert response.status_code == 200 and "You are booked" in response.content.decode()
    assert Session.objects.count() == 1
    assert client.post(path).status_code == 400
    assert Session.objects.count() == 1


def test_the_page_says_closed_when_online_booking_is_off(client, clinic):
    response = client.get(reverse("online:book"))
    assert response.status_code == 200
    assert "not available" in response.content.decode()


def test_the_staff_outbox_pages_show_a_message_to_a_non_patient(manager, online):
    request = _request(online)
    message = OutboxMessage.objects.get(booking_request=request)
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed")
    outbox = manager.get(reverse("messaging:outbox"))
    assert outbox.status_code == 200 and NEW.email in outbox.content.decode()
    detail = manager.get(reverse("messaging:message_detail", args=[message.pk]))
    assert detail.status_code == 200 and NEW.email in detail.content.decode()


def test_the_desk_approves_a_request_from_its_list(front_desk, online):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    request = _request(online)
    online_request_confirm(token=online_link_make(request=request))
    page = front_desk.get(reverse("online:requests"))
    assert "Nina" in page.content.decode() or NEW.email in page.content.decode()
    url = reverse("online:request_decide", args=[request.pk])
    assert front_desk.post(url, {"decision": "approve"}).status_code == 302
    assert Session.objects.get().patient.email == NEW.email
    # Deciding twice changes nothing.
    front_desk.post(url, {"decision": "decline"})
    assert Session.objects.count() == 1
    assert not OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED).exists()


def test_details_the_registration_refuses_give_the_neutral_answer_and_keep_nothing(
    online, monkeypatch
):
    def refuse(**kwargs):
        raise DomainError("Not a valid phone number.", field="phone")

    monkeypatch.setattr(services, "patient_create", refuse)
    token = online_link_make(request=_request(online))
    assert online_request_confirm(token=token).outcome == Outcome.CALL
    assert Patient.objects.count() == 0 and Session.objects.count() == 0
    assert BookingRequest.objects.get().status == BookingRequest.Status.AWAITING_EMAIL


@pytest.mark.parametrize("extra", [0, 8])
def test_free_slots_read_a_flat_number_of_queries(online, django_assert_max_num_queries, extra):
    for i in range(extra):
        doctor = StaffProfileFactory()
        SessionFactory(
            practitioner=doctor,
            session_type=online,
            starts_at=START + dt.timedelta(minutes=15 * i),
            ends_at=START + dt.timedelta(minutes=15 * i + 45),
            blocked_until=START + dt.timedelta(minutes=15 * i + 60),
            room=RoomFactory(name=f"Room {i}"),
        )
    with django_assert_max_num_queries(6):
        free_slots(session_type=online, day=DAY, zone=LONDON)
