"""What an online booking emails, and to whom: a new patient's opt-ins become consents when the
link is clicked; the answer to their own request (confirmation, request received, approved,
declined) reaches the verified address whatever they ticked; each message is cancelled once it
no longer applies; all of them are listed on the patient's messages page."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.selectors import message_still_applies
from treatments.models import Clinic, OnlineBooking, Session
from treatments.online.models import BookingRequest
from treatments.online.services import (
    Applicant,
    Outcome,
    online_link_make,
    online_request_confirm,
    online_request_create,
    online_request_decide,
)
from treatments.services.booking import session_cancel, session_reschedule

from .conftest import DAY, START

pytestmark = pytest.mark.django_db

CLICKED_AT = dt.datetime(2031, 6, 1, 9, 12, tzinfo=dt.UTC)


def _new(**opt_ins) -> Applicant:
    return Applicant(
        email="nina@example.com",
        date_of_birth=dt.date(1990, 5, 1),
        is_new=True,
        first_name="Nina",
        last_name="New",
        phone="07700900123",
        **opt_ins,
    )


def _book(face, applicant) -> BookingRequest:
    with time_machine.travel(CLICKED_AT - dt.timedelta(minutes=5), tick=False):
        request = online_request_create(
            session_type=face, practitioner=None, starts_at=START, applicant=applicant
        )
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_confirm(token=online_link_make(request=request))
    request.refresh_from_db()
    return request


def _dispatch() -> None:
    with time_machine.travel(CLICKED_AT + dt.timedelta(minutes=1), tick=False):
        dispatch_in_process()


def _by_kind(**filters) -> dict[str, OutboxMessage]:
    return {m.kind: m for m in OutboxMessage.objects.filter(**filters)}


def test_the_page_offers_both_opt_ins_unticked(client, online):
    query = f"?session_type={online.pk}&practitioner=&day={DAY.isoformat()}"
    page = client.get(reverse("online:book") + query).content.decode()
    for name in ("email_reminders_consent", "marketing_consent"):
        tag = page[page.index(f'name="{name}"') - 60 : page.index(f'name="{name}"') + 80]
        assert 'type="checkbox"' in tag and "checked" not in tag


@time_machine.travel(dt.datetime(2031, 6, 1, 9, tzinfo=dt.UTC), tick=False)
def test_the_ticked_opt_ins_are_kept_with_the_request_and_nothing_is_consented_yet(client, online):
    query = f"?session_type={online.pk}&practitioner=&day={DAY.isoformat()}"
    form = {
        "slot": START.isoformat(),
        "is_new": "1",
        "email": "nina@example.com",
        "date_of_birth": "1990-05-01",
        "first_name": "Nina",
        "last_name": "New",
        "phone": "07700900123",
        "email_reminders_consent": "on",
    }
    assert client.post(reverse("online:book") + query, form).status_code == 302
    request = BookingRequest.objects.get()
    assert (request.email_reminders_consent, request.marketing_consent) == (True, False)
    assert not Patient.objects.exists() and not ConsentChange.objects.exists()


def test_the_click_records_the_ticked_opt_ins_as_consents_from_online_booking(online):
    _book(online, _new(email_reminders_consent=True, marketing_consent=True))
    patient = Patient.objects.get()
    assert patient.email_reminders_consent and patient.marketing_consent
    changes = {c.kind: c for c in ConsentChange.objects.filter(patient=patient)}
    assert set(changes) == {ConsentChange.Kind.EMAIL_REMINDERS, ConsentChange.Kind.MARKETING}
    for change in changes.values():
        assert change.given and change.source == "online booking"
        assert change.at == CLICKED_AT and change.recorded_by is None
    session = Session.objects.get()
    rows = _by_kind(session=session)
    assert rows[Kind.PREPARATION].status == rows[Kind.REMINDER].status == Status.PENDING


def test_only_the_reminders_box_ticked_gives_no_marketing_consent(online):
    _book(online, _new(email_reminders_consent=True))
    patient = Patient.objects.get()
    assert patient.email_reminders_consent and not patient.marketing_consent
    assert list(ConsentChange.objects.values_list("kind", flat=True)) == [
        ConsentChange.Kind.EMAIL_REMINDERS
    ]


def test_with_no_box_ticked_the_confirmation_still_reaches_the_verified_address(online):
    _book(online, _new())
    patient = Patient.objects.get()
    assert not patient.email_reminders_consent and not ConsentChange.objects.exists()
    rows = _by_kind(session=Session.objects.get())
    # The reminders are the clinic's care messages: they wait for a consent...
    assert rows[Kind.PREPARATION].reason_code == Reason.NO_CARE_CONSENT
    assert rows[Kind.REMINDER].reason_code == Reason.NO_CARE_CONSENT
    # ...the confirmation answers the person's own, verified request: it goes.
    confirmation = rows[Kind.CONFIRMATION]
    assert confirmation.status == Status.PENDING
    assert confirmation.booking_request_id == BookingRequest.objects.get().pk
    mail.outbox.clear()
    _dispatch()
    sent = [m for m in mail.outbox if "Your appointment is booked" in m.body]
    assert len(sent) == 1 and sent[0].to == ["nina@example.com"]
    assert [a[0] for a in sent[0].attachments] == ["appointment.ics"]
    assert "/m/confirm/" in sent[0].body and "/m/cancel/" in sent[0].body
    assert "you agreed to receive appointment" not in sent[0].body
    assert "booked this appointment on our online booking page" in sent[0].body
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.sent_to) == (Status.SENT, "nina@example.com")


def test_a_consent_withdrawn_later_stops_the_reminders_not_the_booking_s_answer(online):
    _book(online, _new(email_reminders_consent=True))
    patient = Patient.objects.get()
    patient_consent_set(
        patient=patient, kind=ConsentChange.Kind.EMAIL_REMINDERS, given=False, by=None
    )
    rows = _by_kind(session=Session.objects.get())
    assert rows[Kind.REMINDER].status == Status.SKIPPED
    assert rows[Kind.CONFIRMATION].status == Status.PENDING


def test_a_desk_move_after_an_online_booking_needs_the_consent_again(online, front_desk_user):
    _book(online, _new())
    session = Session.objects.get()
    session_reschedule(
        session=session,
        starts_at=START + dt.timedelta(hours=2),
        practitioner=session.practitioner,
        room=session.room,
        by=front_desk_user,
    )
    newer = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION, step=1)
    assert newer.status == Status.SKIPPED and newer.reason_code == Reason.NO_CARE_CONSENT


def test_an_existing_patient_s_ticks_change_none_of_their_consents(online):
    patient = PatientFactory(email="olive@example.com", email_reminders_consent=False)
    applicant = Applicant(
        email="olive@example.com",
        date_of_birth=patient.date_of_birth,
        is_new=False,
        email_reminders_consent=True,
        marketing_consent=True,
    )
    request = _book(online, applicant)
    assert (request.email_reminders_consent, request.marketing_consent) == (False, False)
    patient.refresh_from_db()
    assert not patient.email_reminders_consent and not patient.marketing_consent
    assert not ConsentChange.objects.exists()
    assert request.status == BookingRequest.Status.BOOKED


@pytest.fixture
def request_mode(online):
    Clinic.objects.filter(pk=1).update(online_booking=OnlineBooking.REQUEST)
    return online


def test_a_verified_request_tells_the_patient_it_was_received(request_mode):
    request = _book(request_mode, _new())
    assert request.status == BookingRequest.Status.REQUESTED
    received = OutboxMessage.objects.get(kind=Kind.ONLINE_RECEIVED)
    assert received.status == Status.PENDING and received.to_email == "nina@example.com"
    assert received.patient == request.patient and received.expires_at == START
    mail.outbox.clear()
    _dispatch()
    [email] = mail.outbox
    assert email.to == ["nina@example.com"] and "We have your appointment request" in email.subject
    assert "Nothing is booked yet" in email.body


def test_a_decision_cancels_a_request_received_not_yet_sent(request_mode, front_desk_user):
    request = _book(request_mode, _new())
    online_request_decide(request=request, approve=False, by=front_desk_user)
    received = OutboxMessage.objects.get(kind=Kind.ONLINE_RECEIVED)
    assert received.status == Status.CANCELLED and received.reason_code == Reason.NOT_APPLICABLE
    assert OutboxMessage.objects.get(kind=Kind.ONLINE_DECLINED).status == Status.PENDING


def test_an_approval_is_one_email_with_the_booking_s_details(request_mode, front_desk_user):
    request = _book(request_mode, _new())
    mail.outbox.clear()
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_decide(request=request, approve=True, by=front_desk_user)
    session = Session.objects.get()
    rows = _by_kind(booking_request=request)
    approved = rows[Kind.ONLINE_APPROVED]
    assert approved.session == session and approved.status == Status.PENDING
    first = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION, step=0)
    assert first.status == Status.CANCELLED and first.reason_code == Reason.SUPERSEDED
    _dispatch()
    to_nina = [m for m in mail.outbox if m.to == ["nina@example.com"]]
    assert len(to_nina) == 1
    [email] = to_nina
    assert "approved your request" in email.body and "/m/cancel/" in email.body
    assert [a[0] for a in email.attachments] == ["appointment.ics"]


def test_an_unsent_approval_is_cancelled_with_its_session(request_mode, front_desk_user):
    request = _book(request_mode, _new())
    online_request_decide(request=request, approve=True, by=front_desk_user)
    session_cancel(session=Session.objects.get(), reason="Clinic closed", by=front_desk_user)
    approved = OutboxMessage.objects.get(kind=Kind.ONLINE_APPROVED)
    assert approved.status == Status.CANCELLED
    assert not message_still_applies(approved)


def test_each_online_message_applies_only_while_its_request_is_in_that_state(online):
    request = online_request_create(
        session_type=online, practitioner=None, starts_at=START, applicant=_new()
    )
    verify = OutboxMessage.objects.get(kind=Kind.ONLINE_VERIFY)
    assert message_still_applies(verify)
    online_request_confirm(token=online_link_make(request=request))
    verify.refresh_from_db()
    assert not message_still_applies(verify)


def test_the_patient_s_messages_page_lists_every_online_message(
    request_mode, front_desk, front_desk_user
):
    request = _book(request_mode, _new())
    online_request_decide(request=request, approve=False, by=front_desk_user)
    page = front_desk.get(reverse("messaging:patient_messages", args=[request.patient_id]))
    text = page.content.decode()
    assert page.status_code == 200
    for kind in (Kind.ONLINE_VERIFY, Kind.ONLINE_RECEIVED, Kind.ONLINE_DECLINED):
        assert kind.label in text


def test_an_instant_booking_s_answer_is_on_the_messages_page(online, front_desk):
    request = _book(online, _new())
    assert request.status == BookingRequest.Status.BOOKED
    page = front_desk.get(reverse("messaging:patient_messages", args=[request.patient_id]))
    text = page.content.decode()
    assert Kind.ONLINE_VERIFY.label in text and Kind.CONFIRMATION.label in text


def test_the_outcome_of_a_link_is_unchanged_by_the_opt_ins(online):
    request = online_request_create(
        session_type=online,
        practitioner=None,
        starts_at=START,
        applicant=_new(email_reminders_consent=True),
    )
    assert online_request_confirm(token=online_link_make(request=request)).outcome == (
        Outcome.BOOKED
    )


def test_a_declined_request_s_email_arrives(request_mode, front_desk_user):
    request = _book(request_mode, _new())
    with time_machine.travel(CLICKED_AT, tick=False):
        online_request_decide(request=request, approve=False, by=front_desk_user)
    mail.outbox.clear()
    _dispatch()
    [email] = mail.outbox
    assert email.to == ["nina@example.com"] and "could not accept your request" in email.body
    assert "you agreed to receive appointment" not in email.body


def test_staff_previews_of_the_online_answers_hand_out_no_working_link(
    request_mode, manager, front_desk_user
):
    request = _book(request_mode, _new())
    online_request_decide(request=request, approve=True, by=front_desk_user)
    for kind in (Kind.ONLINE_RECEIVED, Kind.ONLINE_APPROVED):
        message = OutboxMessage.objects.get(kind=kind)
        page = manager.get(reverse("messaging:message_detail", args=[message.pk]))
        text = page.content.decode()
        assert page.status_code == 200 and "Nina New" in text and kind.label in text
        assert "/m/cancel/" not in text and "/book/confirm/" not in text
