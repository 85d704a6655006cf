"""Signed patient links: they work once, before they expire, for their own purpose only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from patients.models import ConsentChange
from patients.services import patient_consent_set
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, SessionConfirmation, Status, UsedLink
from treatments.messaging.tokens import link_url
from treatments.models import Session

from .conftest import london

pytestmark = pytest.mark.django_db
BOOKED_AT = london(2026, 6, 1, 10, 0)
STARTS = london(2026, 6, 10, 14, 0)


@pytest.fixture
def session(book):
    return book(STARTS, now=BOOKED_AT)


@pytest.fixture
def email_links(session) -> dict[str, str]:
    with time_machine.travel(BOOKED_AT + dt.timedelta(minutes=1), tick=False):
        dispatch_in_process()
    [email] = mail.outbox
    found = dict(re.findall(r"http://127\.0\.0\.1:8000(/m/(\w+)/[^/\s]+/)", str(email.body)))
    return {action: path for path, action in found.items()}


def at(when: dt.datetime):
    return time_machine.travel(when, tick=False)


def test_the_cancel_link_cancels_the_session_and_queues_a_cancellation_notice(session, email_links):
    client = Client()
    with at(london(2026, 6, 5, 12, 0)):
        page = client.get(email_links["cancel"])
        assert page.status_code == 200
        assert "Cancel this appointment" in page.content.decode()
        assert "Wednesday 10 June 2026, 14:00" in page.content.decode()
        done = client.post(email_links["cancel"])
    assert done.status_code == 200
    assert "Your appointment is cancelled" in done.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert "email link" in session.cancel_reason
    assert OutboxMessage.objects.get(session=session, kind=Kind.CANCELLATION).status == (
        Status.PENDING
    )


def test_a_reused_link_shows_a_clear_page_and_changes_nothing(session, email_links):
    client = Client()
    with at(london(2026, 6, 5, 12, 0)):
        assert client.post(email_links["confirm"]).status_code == 200
        again = client.post(email_links["confirm"])
        shown = client.get(email_links["confirm"])
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert "Nothing has been changed" in again.content.decode()
    assert shown.status_code == 410
    assert SessionConfirmation.objects.filter(session=session).count() == 1
    assert UsedLink.objects.count() == 1


def test_a_tampered_link_shows_a_clear_page_and_changes_nothing(session, email_links):
    path = email_links["cancel"]
    token = path.split("/")[3]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with at(london(2026, 6, 5, 12, 0)):
        response = Client().post(path.replace(token, flipped))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    assert UsedLink.objects.count() == 0


def test_a_link_for_one_action_does_not_work_for_another(session, email_links):
    confirm_token = email_links["confirm"].split("/")[3]
    with at(london(2026, 6, 5, 12, 0)):
        response = Client().post(f"/m/cancel/{confirm_token}/")
    assert response.status_code == 400
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(session, email_links):
    with at(STARTS + dt.timedelta(minutes=1)):
        response = Client().post(email_links["confirm"])
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not SessionConfirmation.objects.exists()
    assert UsedLink.objects.count() == 0


def test_no_link_outlives_the_maximum_age(session, settings):
    settings.MESSAGING_LINK_MAX_AGE_DAYS = 30
    with at(BOOKED_AT):
        url = link_url(
            action="unsubscribe",
            payload={"p": session.patient_id},
            expires_at=BOOKED_AT + dt.timedelta(days=365),
        )
    with at(BOOKED_AT + dt.timedelta(days=31)):
        response = Client().post(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 410
    session.patient.refresh_from_db()
    assert session.patient.marketing_consent is True


def test_cancelling_inside_the_notice_period_is_refused_with_the_clinic_phone(
    session, email_links, clinic
):
    clinic.phone = "020 7946 0000"
    clinic.save()
    client = Client()
    with at(STARTS - dt.timedelta(hours=23)):
        page = client.get(email_links["cancel"])
        refused = client.post(email_links["cancel"])
    assert "up to 24 hours before" in page.content.decode()
    assert "Cancel this appointment</button>" not in page.content.decode()
    assert refused.status_code == 409
    assert "020 7946 0000" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    assert UsedLink.objects.count() == 0  # refused, so the link still works for the desk's call


@pytest.mark.parametrize("junk", ["x", "a" * 10_000, "%00", "<script>", "😀"])
def test_junk_tokens_get_a_clear_page_not_an_error(session, junk):
    response = Client().get(f"/m/cancel/{junk}/")
    assert response.status_code in (400, 404)


def test_unsubscribe_stops_nudges_records_the_consent_change_and_spares_aftercare(session):
    patient = session.patient
    with at(BOOKED_AT):
        url = link_url(
            action="unsubscribe",
            payload={"p": patient.pk},
            expires_at=BOOKED_AT + dt.timedelta(days=30),
        )
        response = Client().post(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.marketing_consent is False
    assert patient.email_reminders_consent is True
    change = ConsentChange.objects.get(patient=patient, kind=ConsentChange.Kind.MARKETING)
    assert (change.given, change.source) == (False, "email link")


def test_a_used_unsubscribe_link_cannot_undo_a_later_consent(session):
    patient = session.patient
    with at(BOOKED_AT):
        path = link_url(
            action="unsubscribe",
            payload={"p": patient.pk},
            expires_at=BOOKED_AT + dt.timedelta(days=30),
        ).removeprefix("http://127.0.0.1:8000")
        Client().post(path)
        patient_consent_set(patient=patient, kind=ConsentChange.Kind.MARKETING, given=True, by=None)
        response = Client().post(path)
    assert response.status_code == 410
    patient.refresh_from_db()
    assert patient.marketing_consent is True


def test_a_link_to_an_appointment_under_way_speaks_to_the_patient_not_in_desk_terms(
    session, email_links
):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.ARRIVED)
    client = Client()
    with at(london(2026, 6, 5, 12, 0)):
        confirm = client.get(email_links["confirm"]).content.decode()
        cancel = client.get(email_links["cancel"]).content.decode()
    assert "This appointment has already started." in confirm
    assert "This appointment has already started." in cancel
    assert "arrived" not in (confirm + cancel).lower()
