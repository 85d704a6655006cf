"""A new patient who books online gets the health questionnaire's link (issue 11, item 3) even
when they left "reminders and aftercare" unticked: on the page that answers their click and in
the email that answers their request. The questionnaire's own email keeps its consent gate, and
no second questionnaire is ever made."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from treatments.clinical.models import Questionnaire, ScreeningRule
from treatments.clinical.services.questionnaire import questionnaire_answer
from treatments.clinical.tests.factories import answers_all_no
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.models import Clinic, OnlineBooking
from treatments.online.models import BookingRequest
from treatments.online.services import (
    Applicant,
    Outcome,
    online_link_make,
    online_request_confirm,
    online_request_create,
    online_request_decide,
)

from .conftest import START

pytestmark = pytest.mark.django_db

CLICKED_AT = dt.datetime(2031, 6, 1, 9, 12, tzinfo=dt.UTC)
LINK = re.compile(r'/m/questionnaire/([^/\s"]+)/')
BUTTON = "Answer the health questionnaire now"


def _new(*, care: bool) -> Applicant:
    return Applicant(
        email="nina@example.com",
        date_of_birth=dt.date(1990, 5, 1),
        is_new=True,
        first_name="Nina",
        last_name="New",
        phone="07700900123",
        email_reminders_consent=care,
    )


def _request(face, *, care: bool) -> BookingRequest:
    with time_machine.travel(CLICKED_AT - dt.timedelta(minutes=5), tick=False):
        return online_request_create(
            session_type=face, practitioner=None, starts_at=START, applicant=_new(care=care)
        )


def _click(client: Client, request: BookingRequest) -> str:
    with time_machine.travel(CLICKED_AT, tick=False):
        url = reverse("online:verify", args=[online_link_make(request=request)])
        page = client.post(url)
    assert page.status_code == 200
    return page.content.decode()


def _dispatch() -> list:
    mail.outbox.clear()
    with time_machine.travel(CLICKED_AT + dt.timedelta(minutes=1), tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def _kind(email) -> str:
    return OutboxMessage.objects.get(pk=int(email.extra_headers["X-Mesoclinic-Outbox"])).kind


def _link(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return reverse("messaging:link_questionnaire", args=[match.group(1)])


def _answers() -> dict[str, str]:
    data = {}
    for rule in ScreeningRule.objects.filter(active=True):
        data[f"rule_{rule.pk}"] = "no"
        if rule.asks_detail:
            data[f"detail_{rule.pk}"] = ""
    return data


def test_without_care_consent_the_page_and_the_confirmation_carry_a_working_link(client, online):
    page = _click(client, _request(online, care=False))
    assert BUTTON in page
    (questionnaire,) = Questionnaire.objects.all()
    assert questionnaire.status == Questionnaire.Status.OPEN
    # The questionnaire's own email is a care message: it keeps its consent gate.
    (own,) = OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE)
    assert (own.status, own.reason_code) == (Status.SKIPPED, Reason.NO_CARE_CONSENT)

    emails = _dispatch()
    assert [_kind(e) for e in emails] == [Kind.CONFIRMATION]
    (confirmation,) = emails
    assert confirmation.to == ["nina@example.com"]
    assert "answer a few questions about your health" in confirmation.body
    email_link = _link(confirmation.body)
    assert "/m/questionnaire/" in confirmation.alternatives[0][0]

    patient_client = Client()
    assert patient_client.get(email_link).status_code == 200
    page_link = _link(page)
    form = patient_client.get(page_link)
    assert form.status_code == 200 and "Health questions before your visit" in form.content.decode()
    done = patient_client.post(page_link, _answers())
    assert done.status_code == 200 and "your answers are with the clinic" in done.content.decode()
    questionnaire.refresh_from_db()
    assert questionnaire.status == Questionnaire.Status.ANSWERED
    assert questionnaire.answers.count() == ScreeningRule.objects.filter(active=True).count()
    # The email's link is for the same questionnaire: answered already, nothing more to do.
    assert patient_client.get(email_link).status_code == 410
    assert Questionnaire.objects.count() == 1


def test_with_care_consent_the_questionnaire_email_still_goes_once(client, online):
    page = _click(client, _request(online, care=True))
    assert BUTTON in page
    by_kind: dict[str, list] = {}
    for email in _dispatch():
        by_kind.setdefault(_kind(email), []).append(email)
    (questionnaire_email,) = by_kind[Kind.QUESTIONNAIRE]
    (confirmation,) = by_kind[Kind.CONFIRMATION]
    assert LINK.search(questionnaire_email.body) and LINK.search(confirmation.body)
    assert not any(_kind(e) == Kind.QUESTIONNAIRE for e in _dispatch())  # sent once
    assert Questionnaire.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE).count() == 1


def test_an_answered_questionnaire_is_not_offered_again(online):
    request = _request(online, care=False)
    with time_machine.travel(CLICKED_AT, tick=False):
        result = online_request_confirm(token=online_link_make(request=request))
    assert result.outcome == Outcome.BOOKED and result.questionnaire_token
    with time_machine.travel(CLICKED_AT, tick=False):
        questionnaire_answer(token=result.questionnaire_token, answers=answers_all_no())
    (confirmation,) = _dispatch()
    assert "/m/questionnaire/" not in confirmation.body


def test_a_desk_approval_carries_the_link_without_care_consent(client, online, front_desk_user):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    request = _request(online, care=False)
    page = _click(client, request)
    assert BUTTON not in page  # nothing is booked yet
    assert not Questionnaire.objects.exists()
    request.refresh_from_db()
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_decide(request=request, approve=True, by=front_desk_user)
    (questionnaire,) = Questionnaire.objects.all()
    emails = [e for e in _dispatch() if _kind(e) == Kind.ONLINE_APPROVED]
    (approved,) = emails
    assert "approved your request" in approved.body
    link = _link(approved.body)
    assert Client().get(link).status_code == 200
    assert not OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE, status=Status.SENT).exists()
    assert questionnaire.status == Questionnaire.Status.OPEN


def test_a_preview_of_the_confirmation_hands_out_no_questionnaire_link(online, manager):
    _click(Client(), _request(online, care=False))
    row = OutboxMessage.objects.get(kind=Kind.CONFIRMATION, step=0)
    page = manager.get(reverse("messaging:message_detail", args=[row.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "[questionnaire link]" in text and "/m/questionnaire/" not in text
