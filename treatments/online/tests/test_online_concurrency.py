"""30 verified links for one slot clicked at once, each in its own thread and connection:
exactly one booking, 29 "just taken" pages offering other times, no error page. And the desk's
decisions on requests, raced: the request row is locked, so one decision is made and told."""

import datetime as dt
import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.support.second_factor import login_verified
from treatments.messaging.models import Kind, OutboxMessage
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online.models import BookingRequest
from treatments.online.services import (
    Applicant,
    Outcome,
    online_link_make,
    online_request_confirm,
    online_request_create,
)
from treatments.tests.test_booking_concurrency import race

from .conftest import START

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_thirty_clicks_for_one_slot_book_exactly_one(online, practitioner_profile, room2):
    tokens = []
    for i in range(30):
        request = online_request_create(
            session_type=online,
            practitioner=practitioner_profile,
            starts_at=START,
            applicant=Applicant(
                email=f"p{i}@example.com",
                date_of_birth=dt.date(1980, 1, 1 + i % 28),
                is_new=True,
                first_name=f"Pat{i}",
                last_name=f"Race{i}",
                phone=f"0770090{i:04d}",
            ),
        )
        tokens.append(online_link_make(request=request))
    barrier = threading.Barrier(len(tokens))
    responses: list = [None] * len(tokens)

    def click(index: int, token: str) -> None:
        try:
            client = Client(REMOTE_ADDR=f"10.9.0.{index}")
            url = reverse("online:verify", args=[token])
            barrier.wait()
            responses[index] = client.post(url)
        except Exception as exc:  # asserted below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    codes = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert codes == [200] + [409] * 29
    assert Session.objects.filter(starts_at=START).count() == 1
    taken = [r.content.decode() for r in responses if r.status_code == 409]
    assert all("That slot was just taken" in page for page in taken)
    assert all("/book/?session_type=" in page for page in taken)
    assert BookingRequest.objects.filter(status=BookingRequest.Status.TAKEN).count() == 29


# --- the desk deciding requests ("request: staff approve") ------------------------------------

N = 10


def _requested(online, i: int = 0, starts_at=START) -> BookingRequest:
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    request = online_request_create(
        session_type=online,
        practitioner=None,
        starts_at=starts_at,
        applicant=Applicant(
            email=f"asks{i}@example.com",
            date_of_birth=dt.date(1985, 2, 1 + i),
            is_new=True,
            first_name=f"Asha{i}",
            last_name=f"Asks{i}",
            phone=f"0770091{i:04d}",
        ),
    )
    assert online_request_confirm(token=online_link_make(request=request)).outcome == (
        Outcome.REQUESTED
    )
    return request


def _decide(user, request: BookingRequest, decision: str):
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        return client.post(
            reverse("online:request_decide", args=[request.pk]), {"decision": decision}
        )

    return post


def _notes(responses) -> list[str]:
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert [r.status_code for r in responses] == [302] * len(responses)
    return sorted(str(m) for r in responses for m in get_messages(r.wsgi_request))


def test_approve_racing_decline_decides_once_and_tells_the_patient_once(online, front_desk_user):
    request = _requested(online)
    calls = [
        _decide(front_desk_user, request, "approve"),
        _decide(front_desk_user, request, "decline"),
    ]

    notes = _notes(race(calls * (N // 2)))

    request.refresh_from_db()
    told = OutboxMessage.objects.filter(
        booking_request=request, kind__in=[Kind.ONLINE_APPROVED, Kind.ONLINE_DECLINED]
    )
    assert told.count() == 1
    if request.status == BookingRequest.Status.APPROVED:
        assert notes[0] == "Booked; the patient is told."
        assert Session.objects.get().pk == request.session_id
        assert told.get().kind == Kind.ONLINE_APPROVED
    else:
        assert request.status == BookingRequest.Status.DECLINED
        assert notes[0] == "Declined."
        assert not Session.objects.exists()
        assert told.get().kind == Kind.ONLINE_DECLINED
    assert notes[1:] == ["This request has already been dealt with."] * (N - 1)


def test_ten_approves_of_one_request_book_it_once(online, front_desk_user):
    request = _requested(online)

    notes = _notes(race([_decide(front_desk_user, request, "approve")] * N))

    assert notes == ["Booked; the patient is told."] + [
        "This request has already been dealt with."
    ] * (N - 1)
    assert Session.objects.filter(starts_at=START).count() == 1
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_APPROVED).count() == 1


def test_approving_two_requests_for_one_slot_books_one_and_keeps_the_other_waiting(
    online, front_desk_user
):
    # One practitioner, one room: the slot holds one session. The second approval is refused
    # with the booking's own words and the request stays on the desk's list.
    first, second = _requested(online, 1), _requested(online, 2)

    notes = _notes(
        race(
            [
                _decide(front_desk_user, first, "approve"),
                _decide(front_desk_user, second, "approve"),
            ]
        )
    )

    assert notes[0] == "Booked; the patient is told."
    assert notes[1].startswith("That slot was just taken"), notes
    assert Session.objects.filter(starts_at=START).count() == 1
    statuses = sorted(BookingRequest.objects.values_list("status", flat=True))
    assert statuses == [BookingRequest.Status.APPROVED, BookingRequest.Status.REQUESTED]
    assert OutboxMessage.objects.filter(kind=Kind.ONLINE_APPROVED).count() == 1
