"""The health questionnaire before the visit (issue 11, item 3): when it is sent, what the
patient's answers are (reported, never a screening), and what they change before and at the
session. Frozen clock throughout; bookings go through the real booking service and its hooks,
emails through the real dispatcher, answers through the patient's link page."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical.errors import SafetyRefusal
from treatments.clinical.models import (
    ClinicalSettings,
    ConsentText,
    Questionnaire,
    ReportedAnswer,
    Screening,
    ScreeningRule,
)
from treatments.clinical.selectors import FLAG_SEE_PRACTITIONER, patient_flags
from treatments.clinical.services.records import record_save
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.messaging.tokens import link_make
from treatments.services.booking import session_book, session_cancel, session_mark_arrived

from .factories import answers_all_no, make_consent, make_screening, record_data

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
LINK = re.compile(r"/m/questionnaire/([^/\s]+)/")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def jane(clinic):
    return PatientFactory(
        first_name="Jane", last_name="Doe", email="jane@example.com", email_reminders_consent=True
    )


@pytest.fixture
def book(room, face, practitioner_profile, jane):
    def _book(starts: dt.datetime, *, now: dt.datetime, patient=None):
        with time_machine.travel(now, tick=False):
            return session_book(
                patient=patient or jane,
                session_type=face,
                practitioner=practitioner_profile,
                room=room,
                starts_at=starts,
            )

    return _book


def questionnaire_rows(patient=None) -> list[OutboxMessage]:
    qs = OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE)
    return list(qs.filter(patient=patient) if patient else qs)


def dispatch_at(when: dt.datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(when, tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def questionnaire_emails(emails) -> list:
    ids = {
        row.pk
        for row in OutboxMessage.objects.filter(
            pk__in=[int(e.extra_headers["X-Mesoclinic-Outbox"]) for e in emails]
        )
        if row.kind == Kind.QUESTIONNAIRE
    }
    return [e for e in emails if int(e.extra_headers["X-Mesoclinic-Outbox"]) in ids]


def link_from(email) -> str:
    match = LINK.search(email.body)
    assert match, email.body
    return reverse("messaging:link_questionnaire", args=[match.group(1)])


def answers_post(**yes: str) -> dict[str, str]:
    """The questionnaire form, every question "no" but the rule codes given (value = detail)."""
    data = {}
    for rule in ScreeningRule.objects.filter(active=True):
        data[f"rule_{rule.pk}"] = "yes" if rule.code in yes else "no"
        if rule.asks_detail:
            data[f"detail_{rule.pk}"] = yes.get(rule.code, "")
    return data


def old_screening(patient, by):
    """Taken 20 December 2025, valid six months (the default): stale from 20 June 2026."""
    return make_screening(patient, by, taken_at=london(2025, 12, 20, 10))


# --- when it is sent ------------------------------------------------------------------------


def test_a_new_patients_consultation_booked_at_the_desk_sends_the_questionnaire(book, jane):
    now = london(2026, 6, 1, 10)
    session = book(london(2026, 6, 20, 10), now=now)
    (questionnaire,) = Questionnaire.objects.filter(patient=jane)
    assert questionnaire.status == Questionnaire.Status.OPEN
    assert questionnaire.basis is None and questionnaire.session == session
    (row,) = questionnaire_rows(jane)
    # A week before the session, and no later than the session itself.
    assert row.due_at == london(2026, 6, 13, 10)
    assert row.expires_at == session.starts_at
    assert row.status == Status.PENDING


def test_booked_closer_than_a_week_it_goes_at_once(book, jane):
    now = london(2026, 6, 1, 10)
    book(london(2026, 6, 3, 10), now=now)
    (row,) = questionnaire_rows(jane)
    assert row.due_at == now


def test_a_patient_whose_screening_stays_valid_is_not_asked(book, jane, practitioner_profile):
    old_screening(jane, practitioner_profile.user)
    book(london(2026, 6, 19, 10), now=london(2026, 6, 1, 10))  # screening valid until 20 June
    assert not Questionnaire.objects.exists()
    assert not questionnaire_rows()


def test_frozen_clock_one_questionnaire_per_stale_screening(book, jane, practitioner_profile):
    screening = old_screening(jane, practitioner_profile.user)
    first = book(london(2026, 6, 25, 10), now=london(2026, 6, 1, 10))
    book(london(2026, 7, 9, 11), now=london(2026, 6, 2, 10))
    book(london(2026, 7, 23, 11), now=london(2026, 6, 3, 10))
    (questionnaire,) = Questionnaire.objects.all()
    assert questionnaire.basis == screening and questionnaire.session == first
    assert len(questionnaire_rows()) == 1
    sent = []
    for day in (10, 17, 18, 19, 24, 26):
        sent += questionnaire_emails(dispatch_at(london(2026, 6, day, 11)))
    sent += questionnaire_emails(dispatch_at(london(2026, 7, 8, 11)))
    assert len(sent) == 1
    assert sent[0].to == ["jane@example.com"]
    assert "health" in sent[0].subject.lower()
    assert "/m/questionnaire/" in sent[0].body
    (row,) = questionnaire_rows()
    assert row.status == Status.SENT and row.sent_at == london(2026, 6, 18, 11)


def test_a_new_screening_then_stale_again_is_asked_once_more(book, jane, practitioner_profile):
    user = practitioner_profile.user
    old_screening(jane, user)
    book(london(2026, 6, 25, 10), now=london(2026, 6, 1, 10))
    # Taken at the clinic meanwhile: the questionnaire is no longer needed.
    with time_machine.travel(london(2026, 6, 5, 10), tick=False):
        newer = make_screening(jane, user)
    assert Questionnaire.objects.get().status == Questionnaire.Status.CANCELLED
    assert questionnaire_rows()[0].status == Status.CANCELLED
    assert not questionnaire_emails(dispatch_at(london(2026, 6, 18, 11)))
    # A session after the new screening's six months: asked again, for that screening.
    book(london(2026, 12, 10, 10), now=london(2026, 6, 6, 10))
    current = Questionnaire.objects.get(status=Questionnaire.Status.OPEN)
    assert current.basis == newer
    assert len(questionnaire_emails(dispatch_at(london(2026, 12, 3, 11)))) == 1


def test_cancelled_with_its_session_before_it_is_sent(book, jane):
    session = book(london(2026, 6, 25, 10), now=london(2026, 6, 1, 10))
    with time_machine.travel(london(2026, 6, 2, 10), tick=False):
        session_cancel(session=session, reason="Patient unwell")
    (questionnaire,) = Questionnaire.objects.all()
    assert questionnaire.status == Questionnaire.Status.CANCELLED
    assert questionnaire_rows()[0].status == Status.CANCELLED
    assert not questionnaire_emails(dispatch_at(london(2026, 6, 18, 11)))


def test_moved_with_the_first_session_that_needs_it(book, jane):
    later = book(london(2026, 7, 20, 10), now=london(2026, 6, 1, 10))
    sooner = book(london(2026, 6, 20, 10), now=london(2026, 6, 2, 10))
    (row,) = questionnaire_rows()
    assert row.due_at == london(2026, 6, 13, 10)
    assert Questionnaire.objects.get().session == sooner
    with time_machine.travel(london(2026, 6, 3, 10), tick=False):
        session_cancel(session=sooner, reason="Patient unwell")
    row.refresh_from_db()
    assert row.due_at == london(2026, 7, 13, 10) and row.status == Status.PENDING
    assert Questionnaire.objects.get().session == later


def test_once_sent_a_cancelled_session_keeps_it_and_a_new_booking_reuses_it(book, jane):
    session = book(london(2026, 6, 20, 10), now=london(2026, 6, 1, 10))
    assert len(questionnaire_emails(dispatch_at(london(2026, 6, 13, 11)))) == 1
    with time_machine.travel(london(2026, 6, 14, 10), tick=False):
        session_cancel(session=session, reason="Patient unwell")
    questionnaire = Questionnaire.objects.get()
    assert questionnaire.status == Questionnaire.Status.OPEN and questionnaire.session is None
    again = book(london(2026, 6, 27, 10), now=london(2026, 6, 15, 10))
    questionnaire.refresh_from_db()
    assert questionnaire.session == again
    assert not questionnaire_emails(dispatch_at(london(2026, 6, 20, 11)))
    assert len(questionnaire_rows()) == 1


# --- the patient's link ------------------------------------------------------------------------


@pytest.fixture
def sent_link(book, jane):
    """Jane (no screening) booked for 25 June; the questionnaire email went on 18 June."""
    session = book(london(2026, 6, 25, 10), now=london(2026, 6, 1, 10))
    (email,) = questionnaire_emails(dispatch_at(london(2026, 6, 18, 11)))
    return session, link_from(email)


def _nothing_reported() -> None:
    assert not ReportedAnswer.objects.exists()
    assert Questionnaire.objects.get().status == Questionnaire.Status.OPEN


def test_answers_are_stored_as_reported_never_as_a_screening(sent_link, jane):
    _, url = sent_link
    client = Client()
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count("<fieldset") == ScreeningRule.objects.filter(active=True).count()
        assert html.count("<legend") == html.count("<fieldset")
        done = client.post(url, answers_post(**{"other-allergy": "Cats"}))
    assert done.status_code == 200
    assert "your answers are with the clinic" in done.content.decode()
    questionnaire = Questionnaire.objects.get()
    assert questionnaire.status == Questionnaire.Status.ANSWERED
    assert questionnaire.answered_at == london(2026, 6, 19, 9)
    assert not Screening.objects.filter(patient=jane).exists()
    allergy = ReportedAnswer.objects.get(rule__code="other-allergy")
    assert (allergy.answer, allergy.detail) == (True, "Cats")
    assert ReportedAnswer.objects.filter(answer=False).count() == (
        ScreeningRule.objects.filter(active=True).count() - 1
    )


def test_the_patient_reads_the_consent_they_will_sign_without_signing_it(sent_link, face):
    _, url = sent_link
    text = ConsentText.objects.filter(session_type=face).order_by("-version").first()
    text = text or ConsentText.objects.create(
        session_type=face, version=1, title="Face consent", body="I consent to the treatment."
    )
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        html = Client().get(url).content.decode()
    assert text.title in html
    assert 'name="typed_name"' not in html and 'name="signature"' not in html


def test_a_refused_answer_keeps_what_was_typed_and_leaves_the_link_working(sent_link):
    _, url = sent_link
    data = answers_post(**{"other-allergy": "Cats and dust"})
    pregnancy = ScreeningRule.objects.get(code="pregnancy")
    del data[f"rule_{pregnancy.pk}"]
    bleeding = ScreeningRule.objects.get(code="bleeding-disorder")
    data[f"rule_{bleeding.pk}"] = "yes"  # asks for details, none given
    client = Client()
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        page = client.post(url, data)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Please answer yes or no." in html
    assert f'id="id_rule_{pregnancy.pk}-error"' in html
    assert 'value="Cats and dust"' in html  # the typed detail survives
    _nothing_reported()
    data[f"rule_{pregnancy.pk}"] = "no"
    with time_machine.travel(london(2026, 6, 19, 9, 5), tick=False):
        page = client.post(url, data)
    assert "Please tell us a little more" in page.content.decode()
    _nothing_reported()
    data[f"detail_{bleeding.pk}"] = "Von Willebrand"
    with time_machine.travel(london(2026, 6, 19, 9, 10), tick=False):
        assert "your answers are with the clinic" in client.post(url, data).content.decode()
    assert Questionnaire.objects.get().status == Questionnaire.Status.ANSWERED


def test_tampered_expired_and_reused_links_change_nothing(sent_link):
    _, url = sent_link
    client = Client()
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = reverse("messaging:link_questionnaire", args=[token[:-3] + "abc"])
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        assert client.get(tampered).status_code == 400
        assert client.post(tampered, answers_post()).status_code == 400
    _nothing_reported()
    # A validly signed link whose questionnaire belongs to another patient: refused too.
    other = Questionnaire.objects.create(patient=PatientFactory())
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        mixed = link_make(
            action="questionnaire",
            payload={"q": other.pk, "p": Questionnaire.objects.first().patient_id + 10**6},
            expires_at=london(2026, 7, 1),
        )
        mixed_url = reverse("messaging:link_questionnaire", args=[mixed])
        assert client.post(mixed_url, answers_post()).status_code == 400
    assert not ReportedAnswer.objects.exists()
    other.delete()
    # Thirty days after it was sent, the link has expired.
    with time_machine.travel(london(2026, 7, 18, 12), tick=False):
        assert client.get(url).status_code == 410
        assert client.post(url, answers_post(pregnancy="")).status_code == 410
    _nothing_reported()
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        assert client.post(url, answers_post()).status_code == 200
        before = list(ReportedAnswer.objects.values_list("pk", "answer", "detail"))
        again = client.post(url, answers_post(pregnancy=""))
        assert again.status_code == 410
        assert client.get(url).status_code == 410
    assert list(ReportedAnswer.objects.values_list("pk", "answer", "detail")) == before
    assert not OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE_ALERT).exists()


def test_a_questionnaire_no_longer_needed_says_so(sent_link, jane, practitioner_profile):
    _, url = sent_link
    with time_machine.travel(london(2026, 6, 18, 15), tick=False):
        make_screening(jane, practitioner_profile.user)
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        page = Client().post(url, answers_post())
    assert page.status_code == 410
    assert "no longer needed" in page.content.decode()
    assert not ReportedAnswer.objects.exists()


# --- the practitioner -----------------------------------------------------------------------


def answer(url: str, when: dt.datetime, **yes: str) -> None:
    with time_machine.travel(when, tick=False):
        assert Client().post(url, answers_post(**yes)).status_code == 200


def test_answers_appear_pre_filled_and_unconfirmed_to_the_practitioner(
    sent_link, jane, practitioner, practitioner_profile
):
    _, url = sent_link
    answer(url, london(2026, 6, 19, 9), **{"other-allergy": "Cats"})
    form_url = reverse("clinical:screening_create", args=[jane.pk])
    html = practitioner.get(form_url).content.decode()
    rules = ScreeningRule.objects.filter(active=True)
    assert html.count("reported by patient, unconfirmed: ") == rules.count()
    allergy = rules.get(code="other-allergy")
    pregnancy = rules.get(code="pregnancy")
    assert re.search(rf'value="yes"[^>]*id="id_rule_{allergy.pk}_1"[^>]*checked', html)
    assert re.search(rf'value="no"[^>]*id="id_rule_{pregnancy.pk}_0"[^>]*checked', html)
    assert 'value="Cats"' in html
    # The answers are not a screening: nothing counts until the practitioner records one.
    assert not Screening.objects.filter(patient=jane).exists()
    questionnaire = Questionnaire.objects.get()

    data = answers_post(**{"other-allergy": "Cats", "anticoagulants": "Apixaban"})
    data["questionnaire"] = str(questionnaire.pk)
    refused = practitioner.post(form_url, data)
    assert "tick this" in refused.content.decode()
    assert not Screening.objects.exists()
    data["reported_checked"] = "on"
    audit_before = AuditEntry.objects.exclude(action="login").count()
    assert practitioner.post(form_url, data).status_code == 302
    screening = Screening.objects.get(patient=jane)
    questionnaire.refresh_from_db()
    assert questionnaire.status == Questionnaire.Status.REVIEWED
    assert questionnaire.screening == screening
    assert questionnaire.reviewed_by == practitioner_profile.user
    notes = list(
        AuditEntry.objects.filter(object_type="reportedanswer").values_list("note", flat=True)
    )
    assert sorted(set(notes)) == ["confirmed", "corrected"]
    assert notes.count("corrected") == 1  # anticoagulants: the patient said no
    review = AuditEntry.objects.get(object_type="questionnaire", action="update")
    assert review.note == f"reviewed: {rules.count() - 1} confirmed, 1 corrected"
    assert AuditEntry.objects.exclude(action="login").count() > audit_before
    # No clinical text in the audit trail.
    assert not AuditEntry.objects.filter(note__icontains="cats").exists()


def test_answers_arriving_while_the_form_is_open_are_not_passed_over(sent_link, jane, practitioner):
    _, url = sent_link
    form_url = reverse("clinical:screening_create", args=[jane.pk])
    practitioner.get(form_url)  # opened before the patient answered
    answer(url, london(2026, 6, 19, 9), pregnancy="")
    page = practitioner.post(form_url, answers_post())
    assert "answered the health questionnaire since this form was opened" in (page.content.decode())
    assert not Screening.objects.exists()


@pytest.fixture
def absolute_at_home(sent_link, jane, face, practitioner_profile):
    """Jane answered "yes" to pregnancy at home on 19 June, before her 25 June session."""
    session, url = sent_link
    with time_machine.travel(london(2026, 6, 10, 9), tick=False):
        make_consent(jane, face, practitioner_profile.user)
    answer(url, london(2026, 6, 19, 9), pregnancy="")
    return session


def test_an_absolute_contraindication_at_home_alerts_the_practitioner_before_the_session(
    absolute_at_home, jane, practitioner_profile, practitioner
):
    (alert,) = OutboxMessage.objects.filter(kind=Kind.QUESTIONNAIRE_ALERT)
    assert alert.staff_user == practitioner_profile.user
    assert alert.due_at == london(2026, 6, 19, 9)
    (email,) = [
        e
        for e in dispatch_at(london(2026, 6, 19, 9, 1))
        if e.extra_headers["X-Mesoclinic-Outbox"] == str(alert.pk)
    ]
    assert email.to == [practitioner_profile.user.email]
    assert "pregnan" not in (email.subject + email.body).lower()
    assert "Jane Doe" in email.body and "absolute contraindication" in email.body
    assert reverse("clinical:screening_create", args=[jane.pk]) in email.body
    # Before the session: the dashboard and the desk's flag show it.
    with time_machine.travel(london(2026, 6, 19, 10), tick=False):
        dashboard = practitioner.get(reverse("clinical:dashboard")).content.decode()
        assert "data-reported-absolute" in dashboard and "Jane Doe" in dashboard
        assert FLAG_SEE_PRACTITIONER in patient_flags(patient=jane)
    # The practitioner's today list on the day, and the record page before anything is typed.
    with time_machine.travel(london(2026, 6, 25, 8), tick=False):
        today = practitioner.get(reverse("clinical:today")).content.decode()
        record = practitioner.get(reverse("clinical:record", args=[absolute_at_home.pk]))
    assert "absolute contraindication reported at home" in today
    assert "data-reported-absolute" in record.content.decode()


def test_it_blocks_the_record_until_confirmed_exactly_as_a_staff_entered_one(
    absolute_at_home, jane, practitioner_profile
):
    session, user = absolute_at_home, practitioner_profile.user
    with time_machine.travel(london(2026, 6, 25, 10, 5), tick=False):
        session_mark_arrived(session=session)
        with pytest.raises(SafetyRefusal, match="reported by the patient at home, unconfirmed"):
            record_save(session=session, by=user, data=record_data())
        # Confirmed: the screening now says yes, and its rule refuses as it always has.
        make_screening_reviewing(jane, user, Questionnaire.objects.get(), pregnancy="")
        with pytest.raises(SafetyRefusal, match="Absolute contraindication: the patient answered"):
            record_save(session=session, by=user, data=record_data())
    jane.refresh_from_db()
    assert jane.booking_hold  # the staff-entered rule's "do not book" hold, as today
    assert FLAG_SEE_PRACTITIONER not in patient_flags(patient=jane, now=london(2026, 6, 25, 11))


def test_it_blocks_the_record_until_cleared_then_the_record_saves(
    absolute_at_home, jane, practitioner_profile
):
    session, user = absolute_at_home, practitioner_profile.user
    with time_machine.travel(london(2026, 6, 25, 10, 5), tick=False):
        session_mark_arrived(session=session)
        with pytest.raises(SafetyRefusal, match="reported by the patient at home"):
            record_save(session=session, by=user, data=record_data())
        # Corrected to "no" with the patient (e.g. a misread question): cleared.
        make_screening_reviewing(jane, user, Questionnaire.objects.get())
        assert record_save(session=session, by=user, data=record_data()).pk
    jane.refresh_from_db()
    assert not jane.booking_hold
    assert OutboxMessage.objects.get(kind=Kind.QUESTIONNAIRE_ALERT).status == Status.CANCELLED


def make_screening_reviewing(patient, by, questionnaire, **yes):
    from treatments.clinical.services.screening import screening_record

    return screening_record(
        patient=patient, by=by, answers=answers_all_no(**yes), questionnaire=questionnaire
    )


def test_an_unreviewed_alert_is_cancelled_once_a_practitioner_reviews(sent_link, jane, face):
    session, url = sent_link
    answer(url, london(2026, 6, 19, 9), pregnancy="")
    questionnaire = Questionnaire.objects.get()
    doctor = session.practitioner.user
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        make_screening_reviewing(jane, doctor, questionnaire)
    alert = OutboxMessage.objects.get(kind=Kind.QUESTIONNAIRE_ALERT)
    assert alert.status == Status.CANCELLED


# --- the desk ---------------------------------------------------------------------------------


def test_the_desk_sees_see_practitioner_but_never_the_clinical_detail(
    absolute_at_home, jane, front_desk
):
    session = absolute_at_home
    with time_machine.travel(london(2026, 6, 20, 9), tick=False):
        page = front_desk.get(reverse("treatments:session_detail", args=[session.pk]))
        messages = front_desk.get(reverse("messaging:patient_messages", args=[jane.pk]))
        patient_page = front_desk.get(reverse("patients:patient_detail", args=[jane.pk]))
        screening_form = front_desk.get(reverse("clinical:screening_create", args=[jane.pk]))
    with time_machine.travel(london(2026, 6, 25, 8), tick=False):
        today = front_desk.get(reverse("treatments:today")).content.decode()
    html = page.content.decode()
    assert FLAG_SEE_PRACTITIONER in html
    assert FLAG_SEE_PRACTITIONER in patient_page.content.decode()
    assert FLAG_SEE_PRACTITIONER in today
    for text in (html, messages.content.decode(), patient_page.content.decode(), today):
        lowered = text.lower()
        assert "pregnan" not in lowered and "absolute" not in lowered
        assert "contraindication" not in lowered
    # The patient's own email is listed for the desk; the practitioner's alert is not.
    listed = messages.content.decode()
    assert "Health questionnaire before the visit" in listed
    assert "Questionnaire alert" not in listed
    assert screening_form.status_code == 403


def test_the_questionnaire_is_a_care_message(book, clinic):
    declined = PatientFactory(email="no@example.com", email_reminders_consent=False)
    book(london(2026, 6, 20, 10), now=london(2026, 6, 1, 10), patient=declined)
    (row,) = questionnaire_rows(declined)
    assert row.status == Status.SKIPPED


def test_the_clinics_validity_setting_decides_staleness(book, jane, practitioner_profile):
    ClinicalSettings.objects.update_or_create(pk=1, defaults={"screening_valid_months": 12})
    old_screening(jane, practitioner_profile.user)  # valid until 20 December 2026 now
    book(london(2026, 6, 25, 10), now=london(2026, 6, 1, 10))
    assert not Questionnaire.objects.exists()


# --- staff previews, the patient's own data ------------------------------------------------


def test_staff_previews_hand_out_no_working_link_and_no_clinical_detail(absolute_at_home):
    from treatments.messaging.render import message_preview
    from treatments.models import Clinic

    clinic = Clinic.objects.get(pk=1)
    for kind in (Kind.QUESTIONNAIRE, Kind.QUESTIONNAIRE_ALERT):
        subject, text = message_preview(OutboxMessage.objects.get(kind=kind), clinic=clinic)
        assert "/m/questionnaire/" not in text and "pregnan" not in (subject + text).lower()
        assert "[questionnaire link]" in text or "[screening link]" in text


def test_the_patients_export_holds_their_reported_answers(absolute_at_home, jane):
    from treatments.dataprotection.selectors import patient_export_read

    (exported,) = patient_export_read(patient=jane).data["health_questionnaires"]
    assert exported["status"] == Questionnaire.Status.ANSWERED
    yes = [a for a in exported["answers"] if a["answer"]]
    assert [a["question"] for a in yes] == [
        ScreeningRule.objects.get(code="pregnancy").patient_wording
    ]


def test_the_patient_reads_the_patient_wording_or_else_the_staff_wording(sent_link):
    _, url = sent_link
    rule = ScreeningRule.objects.get(code="epilepsy")
    ScreeningRule.objects.filter(pk=rule.pk).update(patient_question="")
    ScreeningRule.objects.filter(code="keloid").update(patient_question="Do your scars go lumpy?")
    with time_machine.travel(london(2026, 6, 19, 9), tick=False):
        html = Client().get(url).content.decode()
    assert f">{rule.question}</legend>" in html
    assert ">Do your scars go lumpy?</legend>" in html
    answer(url, london(2026, 6, 19, 9, 5))
    # The reported answer keeps the words the patient read.
    assert ReportedAnswer.objects.get(rule__code="keloid").question == "Do your scars go lumpy?"
