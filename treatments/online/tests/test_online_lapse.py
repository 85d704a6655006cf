"""Request mode: a request the desk never decides is closed by the periodic tick once its start
has passed; the patient is told (ONLINE_DECLINED, "not decided in time"), and the desk's list no
longer shows it. Frozen clock; running the tick twice changes nothing more."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse

from mesoclinic.errors import DomainError
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.selectors import message_still_applies
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online.models import BookingRequest
from treatments.online.selectors import online_requests_waiting
from treatments.online.services import (
    Applicant,
    online_link_make,
    online_request_confirm,
    online_request_create,
    online_request_decide,
)
from treatments.online.tasks import lapse

from .conftest import START

pytestmark = pytest.mark.django_db

# Clicked two days before the start, so the "request received" email is already sent when the
# start passes (the lapse then adds one email, it never retells the receipt).
CLICKED_AT = START - dt.timedelta(days=2)
AFTER_START = START + dt.timedelta(minutes=1)


@pytest.fixture
def requested(online):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    applicant = Applicant(
        email="nina@example.com",
        date_of_birth=dt.date(1990, 5, 1),
        is_new=True,
        first_name="Nina",
        last_name="New",
        phone="07700900123",
    )
    with time_machine.travel(CLICKED_AT - dt.timedelta(minutes=5), tick=False):
        request = online_request_create(
            session_type=online, practitioner=None, starts_at=START, applicant=applicant
        )
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_confirm(token=online_link_make(request=request))
    request.refresh_from_db()
    assert request.status == BookingRequest.Status.REQUESTED
    return request


def _lapse_at(when: dt.datetime) -> int:
    with time_machine.travel(when, tick=False):
        return lapse()


def _dispatch_at(when: dt.datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(when, tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def test_nothing_closes_before_the_start(requested):
    assert _lapse_at(START - dt.timedelta(minutes=1)) == 0
    requested.refresh_from_db()
    assert requested.status == BookingRequest.Status.REQUESTED
    assert not OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED).exists()


def test_an_undecided_request_is_closed_after_its_start_and_the_patient_told(requested):
    sent = [e for e in _dispatch_at(CLICKED_AT) if "We have your" in e.subject]
    assert len(sent) == 1  # the receipt went before the start; the lapse adds one email
    assert _lapse_at(AFTER_START) == 1
    requested.refresh_from_db()
    assert requested.status == BookingRequest.Status.EXPIRED
    assert requested.decided_at == AFTER_START and requested.session_id is None
    (told,) = OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED)
    assert told.status == Status.PENDING and told.to_email == "nina@example.com"
    assert told.patient == requested.patient and message_still_applies(told)
    (email,) = _dispatch_at(AFTER_START + dt.timedelta(minutes=1))
    assert email.to == ["nina@example.com"]
    assert "could not look at your request" in email.body and "in time" in email.body
    assert "could not accept your request" not in email.body
    assert "in time" in email.alternatives[0][0]
    assert not Session.objects.exists()


def test_running_the_tick_twice_tells_the_patient_once(requested):
    assert _lapse_at(AFTER_START) == 1
    assert _lapse_at(AFTER_START) == 0
    assert _lapse_at(AFTER_START + dt.timedelta(hours=1)) == 0
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED).count() == 1
    assert len(_dispatch_at(AFTER_START + dt.timedelta(hours=1))) == 1
    assert _dispatch_at(AFTER_START + dt.timedelta(hours=2)) == []


def test_an_unsent_request_received_is_cancelled(requested):
    received = OutboxMessage.objects.get(kind=Kind.ONLINE_RECEIVED)
    assert received.status == Status.PENDING
    _lapse_at(AFTER_START)
    received.refresh_from_db()
    assert (received.status, received.reason_code) == (Status.CANCELLED, Reason.NOT_APPLICABLE)


def test_the_desk_no_longer_lists_it_nor_can_approve_it(requested, front_desk, front_desk_user):
    with time_machine.travel(START - dt.timedelta(hours=1), tick=False):
        assert list(online_requests_waiting()) == [requested]
        page = front_desk.get(reverse("online:requests")).content.decode()
        assert str(requested.patient) in page
    with time_machine.travel(AFTER_START, tick=False):
        # Gone from the list as soon as the start passes, before the tick has run...
        assert list(online_requests_waiting()) == []
        with pytest.raises(DomainError, match="has passed"):
            online_request_decide(request=requested, approve=True, by=front_desk_user)
    _lapse_at(AFTER_START)
    with time_machine.travel(AFTER_START, tick=False):
        page = front_desk.get(reverse("online:requests")).content.decode()
        assert "No requests waiting" in page and str(requested.patient) not in page
        # ...and once closed, the desk's decision is refused as for any decided request.
        with pytest.raises(DomainError, match="already been dealt with"):
            online_request_decide(request=requested, approve=False, by=front_desk_user)


def test_a_decided_request_is_left_alone(requested, front_desk_user):
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_decide(request=requested, approve=False, by=front_desk_user)
    assert _lapse_at(AFTER_START) == 0
    requested.refresh_from_db()
    assert requested.status == BookingRequest.Status.DECLINED
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_DECLINED).count() == 1


def test_beat_runs_the_tick():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "online.lapse" in tasks
