"""30 verified links for one slot clicked at once, each in its own thread and connection:
exactly one booking, 29 "just taken" pages offering other times, no error page."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from treatments.models import Session
from treatments.online.models import BookingRequest
from treatments.online.services import Applicant, online_link_make, online_request_create

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
