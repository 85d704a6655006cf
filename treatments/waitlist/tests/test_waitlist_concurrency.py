"""One freed slot, three offers, three patients accepting at the same instant, each in its own
thread and connection: exactly one booked, two "just taken" pages, no error page."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.clinic_time import local_to_utc
from treatments.models import Session
from treatments.services.booking import session_book, session_cancel
from treatments.waitlist import links
from treatments.waitlist.models import Entry, Offer
from treatments.waitlist.services import Wish, entry_add

from .conftest import LONDON

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_three_accepts_for_one_freed_slot_book_exactly_one(
    clinic, practitioner_profile, room, face
):
    # Real time: the threads' requests run on the wall clock. Tomorrow at 10:00 in London.
    tomorrow = dt.datetime.now(tz=LONDON).date() + dt.timedelta(days=1)
    slot = local_to_utc(dt.datetime.combine(tomorrow, dt.time(10)), LONDON)
    session = session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=slot,
    )
    entries = [
        entry_add(
            patient=PatientFactory(first_name=f"Race{n}"),
            wish=Wish(
                session_type=face,
                practitioner=None,
                earliest=tomorrow,
                latest=tomorrow + dt.timedelta(days=7),
            ),
        )
        for n in range(3)
    ]
    session_cancel(session=session, reason="Patient unwell")
    offers = list(Offer.objects.order_by("pk"))
    assert [o.entry_id for o in offers] == [e.pk for e in entries]
    assert {o.starts_at for o in offers} == {slot}
    tokens = [links.offer_token(o) for o in offers]

    barrier = threading.Barrier(len(tokens))
    responses: list = [None] * len(tokens)

    def accept(index: int, token: str) -> None:
        try:
            client = Client(REMOTE_ADDR=f"10.8.0.{index}")
            url = reverse("waitlist:offer", args=[token])
            barrier.wait()
            responses[index] = client.post(url, {"answer": "accept"})
        except Exception as exc:  # asserted below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    codes = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert codes == [200, 409, 409]
    assert Session.objects.filter(starts_at=slot, status=Session.Status.BOOKED).count() == 1
    pages = [r.content.decode() for r in responses]
    assert sum("You are booked" in page for page in pages) == 1
    assert sum("That time was just taken" in page for page in pages) == 2
    statuses = sorted(Offer.objects.filter(release__isnull=False).values_list("status", flat=True))
    assert statuses == [Offer.Status.ACCEPTED, Offer.Status.TAKEN, Offer.Status.TAKEN]
    assert Entry.objects.filter(status=Entry.Status.BOOKED).count() == 1
    assert Entry.objects.filter(status=Entry.Status.ACTIVE).count() == 2
