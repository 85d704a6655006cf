"""Staff message pages: HTTP contract, every role, flat query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db
STAFF = ["front_desk", "practitioner", "therapist", "manager"]


@pytest.fixture
def failed(clinic, room, face, practitioner_profile):
    session = SessionFactory(
        room=room, session_type=face, practitioner=practitioner_profile, notes="Prefers mornings"
    )
    return OutboxMessage.objects.create(
        kind=Kind.CONFIRMATION,
        patient=session.patient,
        session=session,
        due_at=timezone.now() - dt.timedelta(hours=1),
        expires_at=session.starts_at,
        status=Status.FAILED,
        reason_code=Reason.SMTP,
        status_reason="The mail server refused it.",
        last_error="SMTPRecipientsRefused: 550 no such user",
    )


# Who may open each page is in tests/test_access.py; here, the filtered outbox and the retry.
FILTERED = reverse("messaging:outbox") + "?status=pending"


@pytest.mark.parametrize("persona", STAFF)
def test_every_booking_role_sees_the_filtered_outbox(request, persona, failed):
    assert request.getfixturevalue(persona).get(FILTERED).status_code == 200


def test_an_outsider_is_refused_the_filtered_outbox_and_the_retry_changes_nothing(outsider, failed):
    assert outsider.get(FILTERED).status_code == 403
    response = Client().get(FILTERED)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    retry = reverse("messaging:message_retry", args=[failed.pk])
    assert outsider.post(retry).status_code == 403
    failed.refresh_from_db()
    assert failed.status == Status.FAILED


def test_the_clinic_wide_page_lists_failed_messages_with_a_retry(front_desk, failed):
    page = front_desk.get(reverse("messaging:outbox")).content.decode()
    assert "The mail server refused it." in page
    assert reverse("messaging:message_retry", args=[failed.pk]) in page


@pytest.mark.parametrize("persona", STAFF)
def test_every_booking_role_can_retry_a_failed_message(request, persona, failed):
    client = request.getfixturevalue(persona)
    response = client.post(
        reverse("messaging:message_retry", args=[failed.pk]), {"next": "/m/outbox/"}
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "admin:index", "javascript:alert(1)"]
)
def test_retry_goes_back_only_to_a_page_of_this_site(front_desk, failed, next_url):
    url = reverse("messaging:message_retry", args=[failed.pk])
    response = front_desk.post(url, {"next": next_url})
    assert response.status_code == 302
    assert response.url == reverse("messaging:outbox")
    failed.status = Status.FAILED
    failed.save()
    back = reverse("messaging:patient_messages", args=[failed.patient_id]) + "?page=2"
    assert front_desk.post(url, {"next": back}).url == back


def test_retry_is_post_only_and_explains_a_refusal(front_desk, failed):
    url = reverse("messaging:message_retry", args=[failed.pk])
    assert front_desk.get(url).status_code == 405
    failed.status = Status.SENT
    failed.save()
    response = front_desk.post(url, follow=True)
    assert "Only a failed message can be retried" in response.content.decode()


def test_the_preview_shows_the_email_without_links_or_clinical_detail(front_desk, failed):
    page = front_desk.get(reverse("messaging:message_detail", args=[failed.pk])).content.decode()
    assert "Your appointment is booked" in page
    assert "[cancel link]" in page and "/m/cancel/" not in page
    assert "Face" not in page  # the treatment is not in the message, so not in its preview


def test_an_unknown_message_is_a_404(front_desk, clinic):
    assert front_desk.get(reverse("messaging:message_detail", args=[999999])).status_code == 404


def test_an_unknown_status_filter_falls_back_to_failed(front_desk, failed):
    response = front_desk.get(reverse("messaging:outbox") + "?status=%00<x>")
    assert response.status_code == 200
    assert "The mail server refused it." in response.content.decode()


def _many(n: int, patient) -> None:
    session = SessionFactory.create(patient=patient)
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            kind=Kind.CONFIRMATION,
            patient=patient,
            session=session,
            step=i,
            due_at=now,
            expires_at=now + dt.timedelta(days=1),
            status=Status.FAILED,
        )
        for i in range(n)
    )


@pytest.mark.parametrize("n", [1, 200])
def test_message_lists_use_a_flat_number_of_queries(
    front_desk, clinic, django_assert_max_num_queries, n
):
    patient = PatientFactory()
    _many(n, patient)
    with django_assert_max_num_queries(12):
        assert front_desk.get(reverse("messaging:outbox")).status_code == 200
    with django_assert_max_num_queries(12):
        url = reverse("messaging:patient_messages", args=[patient.pk])
        assert front_desk.get(url).status_code == 200
