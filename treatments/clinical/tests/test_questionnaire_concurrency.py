"""One questionnaire link submitted ten times at once (a double tap, a retrying phone), each in
its own thread and connection: one set of answers, one alert, nine "already used" pages, no
error page."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from treatments.clinical.models import Questionnaire, ReportedAnswer, ScreeningRule
from treatments.clinical.services.questionnaire import questionnaire_link_make
from treatments.messaging.models import Kind, OutboxMessage
from treatments.services.booking import session_book

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_submits_of_one_link_store_one_set_of_answers(face, practitioner_profile, room):
    patient = PatientFactory(email="race@example.com", email_reminders_consent=True)
    start = (timezone.now() + dt.timedelta(days=3)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    session_book(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=start,
    )
    questionnaire = Questionnaire.objects.get(patient=patient)
    url = reverse(
        "messaging:link_questionnaire",
        args=[questionnaire_link_make(questionnaire=questionnaire)],
    )
    data = {}
    for rule in ScreeningRule.objects.filter(active=True):
        data[f"rule_{rule.pk}"] = "yes" if rule.code == "pregnancy" else "no"
        if rule.asks_detail:
            data[f"detail_{rule.pk}"] = ""
    barrier = threading.Barrier(10)
    responses: list = [None] * 10

    def submit(index: int) -> None:
        try:
            client = Client(REMOTE_ADDR=f"10.8.0.{index}")
            barrier.wait()
            responses[index] = client.post(url, data)
        except Exception as exc:  # asserted below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    codes = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert codes == [200] + [410] * 9
    assert ReportedAnswer.objects.count() == ScreeningRule.objects.filter(active=True).count()
    questionnaire.refresh_from_db()
    assert questionnaire.status == Questionnaire.Status.ANSWERED
    assert OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE_ALERT).count() == 1
