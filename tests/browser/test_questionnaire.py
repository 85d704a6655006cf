"""The health questionnaire before the visit, as the patient and the practitioner live it: a new
patient's consultation is booked at the desk; the questionnaire email reaches a real SMTP
server; the patient opens its link on a phone (390×844), reads the consent, answers (a missing
answer is pointed out beside its question, nothing typed is lost); the practitioner then finds
the answers pre-filled and marked unconfirmed in the screening form. axe-core checks each page."""

from __future__ import annotations

import datetime as dt
import email
import importlib
import re
from email.policy import default as default_policy
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import checked_context, log_in
from tests.support.smtp import SmtpSink, smtp_server
from treatments.clinic_time import local_to_utc
from treatments.clinical.models import (
    ConsentText,
    Questionnaire,
    ReportedAnswer,
    Screening,
    ScreeningRule,
)
from treatments.messaging.dispatch import dispatch_in_process
from treatments.services.booking import session_book

pytestmark = [pytest.mark.browser]


class RecordingSink(SmtpSink):
    """Also keeps each message as the patient's mail program would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.parsed: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.parsed.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return await super().handle_DATA(server, session, envelope)


def _seed_rules() -> None:
    """The seeded screening rules and their patient wording (a transactional test flushes the
    data migrations' rows)."""
    for name, step in (
        ("0004_seed_screening_rules_and_consent", "seed"),
        ("0013_questionnaire", "add_patient_wording"),
    ):
        module = importlib.import_module(f"treatments.clinical.migrations.{name}")
        getattr(module, step)(django_apps, None)


def test_the_patient_answers_on_a_phone_and_the_practitioner_finds_the_answers_pre_filled(
    transactional_db,
    live_server,
    browser,
    page,
    screenshots,
    settings,
    clinic,
    front_desk_user,
    practitioner_profile,
    room,
    face,
):
    _seed_rules()
    consent = ConsentText.objects.filter(session_type=face).order_by("-version").first()
    consent = consent or ConsentText.objects.create(
        session_type=face,
        version=1,
        title="Consent to mesotherapy of the face",
        body="I understand that bruising and swelling are common and pass within days.",
    )
    nina = PatientFactory(
        first_name="Nina",
        last_name="Newcombe",
        email="nina@example.com",
        email_reminders_consent=True,
    )
    day = timezone.localdate(timezone.now(), clinic.zone) + dt.timedelta(days=3)
    session = session_book(
        patient=nina,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=local_to_utc(dt.datetime.combine(day, dt.time(10)), clinic.zone),
        booked_by=front_desk_user,
    )

    sink = RecordingSink()
    with smtp_server(sink) as port:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.MESSAGING_SITE_URL = live_server.url
        dispatch_in_process()
    (message,) = [m for m in sink.parsed if "health questions" in m["Subject"]]
    assert message["To"] == "nina@example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(rf"{re.escape(live_server.url)}/m/questionnaire/\S+/", text).group(0)

    phone = checked_context(browser, live_server.url, viewport={"width": 390, "height": 844})
    patient_page = phone.new_page()
    patient_page.goto(link)
    patient_page.get_by_role("heading", name="Health questions before your visit").wait_for()
    # No sideways scrolling on the phone.
    assert patient_page.evaluate("document.documentElement.scrollWidth") <= 390
    patient_page.get_by_text(consent.title).click()
    patient_page.get_by_text(consent.body.split("\n")[0].strip()[:40]).first.wait_for()

    questions = patient_page.locator("form.questionnaire fieldset")
    assert questions.count() == ScreeningRule.objects.filter(active=True).count()
    pregnancy = patient_page.get_by_role("group", name="Are you pregnant, or breastfeeding?")
    allergy = patient_page.get_by_role("group", name="Do you have any other allergy?")
    for index in range(questions.count()):
        questions.nth(index).get_by_label("No", exact=True).check()
    allergy.get_by_label("Yes", exact=True).check()
    allergy.get_by_label("If yes, please tell us more").fill("Cat hair")
    pregnancy.get_by_label("Yes", exact=True).check()
    # One question left unanswered: the page says so beside it, and keeps the rest.
    diabetes = patient_page.get_by_role(
        "group", name="Do you have diabetes that is not under control?"
    )
    patient_page.evaluate(
        "name => document.querySelectorAll(`input[name='${name}']`)"
        ".forEach(i => { i.checked = false; })",
        diabetes.get_by_label("No", exact=True).get_attribute("name"),
    )
    patient_page.get_by_role("button", name="Send my answers").click()
    patient_page.get_by_text("Please answer yes or no.").first.wait_for()
    assert_accessible(patient_page)
    patient_page.screenshot(path=screenshots / "questionnaire-error-phone.png", full_page=True)
    assert diabetes.get_by_text("Please answer yes or no.").is_visible()
    assert allergy.get_by_label("If yes, please tell us more").input_value() == "Cat hair"
    assert pregnancy.get_by_label("Yes", exact=True).is_checked()
    assert not ReportedAnswer.objects.exists()

    diabetes.get_by_label("No", exact=True).check()
    patient_page.get_by_role("button", name="Send my answers").click()
    patient_page.get_by_text("your answers are with the clinic").wait_for()
    assert_accessible(patient_page)
    patient_page.screenshot(path=screenshots / "questionnaire-sent-phone.png", full_page=True)
    phone.close()

    questionnaire = Questionnaire.objects.get(patient=nina)
    assert questionnaire.status == Questionnaire.Status.ANSWERED
    assert not Screening.objects.filter(patient=nina).exists()

    log_in(page, practitioner_profile.user.username)
    page.goto(reverse("clinical:dashboard"))
    assert "Newcombe" in page.locator("#questionnaires-to-review").inner_text()
    page.goto(reverse("clinical:screening_create", args=[nina.pk]))
    page.get_by_text("reported by patient, unconfirmed").first.wait_for()
    assert page.locator("fieldset[data-reported]").count() == page.locator("form fieldset").count()
    pregnant = page.get_by_role("group", name=re.compile("Is the patient pregnant"))
    assert "reported by patient, unconfirmed: yes" in pregnant.inner_text()
    assert pregnant.get_by_label("Yes", exact=True).is_checked()
    assert page.get_by_label("Details: Any other allergy?").input_value() == "Cat hair"
    page.screenshot(path=screenshots / "questionnaire-pre-filled.png", full_page=True)
    assert questionnaire.session == session
