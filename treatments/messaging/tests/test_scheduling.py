"""When messages fall due, and how booking events and consent changes move them (frozen clock)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from patients.models import ConsentChange
from patients.services import patient_consent_set
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.services.booking import (
    session_cancel,
    session_complete,
    session_mark_no_show,
    session_reschedule,
)

from .conftest import london

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def rows(session) -> dict[str, OutboxMessage]:
    """The newest row of each kind for the session."""
    out: dict[str, OutboxMessage] = {}
    for row in OutboxMessage.objects.filter(session=session).order_by("step"):
        out[row.kind] = row
    return out


def dispatch_at(when: dt.datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(when, tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def kinds_sent(emails) -> list[str]:
    """The session's own messages sent. The patients here have no screening, so they are also
    sent the health questionnaire: that has its own tests (clinical/tests/test_questionnaire.py)."""
    ids = [int(e.extra_headers["X-Mesoclinic-Outbox"]) for e in emails]
    rows = OutboxMessage.objects.filter(pk__in=ids).exclude(kind=Kind.QUESTIONNAIRE)
    return sorted(rows.values_list("kind", flat=True))


def test_booking_schedules_confirmation_now_and_preparation_and_reminder_at_nine_local(book):
    now = london(2026, 6, 1, 10, 0)
    session = book(london(2026, 6, 10, 14, 0), now=now)
    by_kind = rows(session)
    assert set(by_kind) == {Kind.CONFIRMATION, Kind.PREPARATION, Kind.REMINDER}
    assert by_kind[Kind.CONFIRMATION].due_at == now
    assert by_kind[Kind.PREPARATION].due_at == london(2026, 6, 7, 9, 0)
    assert by_kind[Kind.REMINDER].due_at == london(2026, 6, 9, 9, 0)
    assert all(row.status == Status.PENDING for row in by_kind.values())
    assert all(row.expires_at == session.starts_at for row in by_kind.values())


def test_preparation_and_reminder_stay_at_nine_local_across_the_spring_clock_change(book):
    # Clocks go forward on Sunday 29 March 2026: Saturday is GMT, Monday is BST.
    session = book(london(2026, 3, 31, 10, 0), now=london(2026, 3, 20, 12, 0))
    by_kind = rows(session)
    assert by_kind[Kind.PREPARATION].due_at == dt.datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert by_kind[Kind.REMINDER].due_at == dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert by_kind[Kind.REMINDER].due_at.astimezone(london(2026, 1, 1).tzinfo).hour == 9


def test_preparation_goes_at_once_when_booked_inside_the_three_days(book):
    now = london(2026, 6, 8, 15, 0)
    session = book(london(2026, 6, 10, 14, 0), now=now)
    assert rows(session)[Kind.PREPARATION].due_at == now
    assert kinds_sent(dispatch_at(now)) == [Kind.CONFIRMATION, Kind.PREPARATION]


def test_a_booking_made_after_the_reminder_time_gets_no_reminder(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 9, 18, 0))
    reminder = rows(session)[Kind.REMINDER]
    assert reminder.status == Status.SKIPPED
    assert reminder.reason_code == Reason.BOOKED_LATE


def test_aftercare_is_due_24_and_48_elapsed_hours_after_the_recorded_end_across_autumn_dst(book):
    # Rule: elapsed hours, not wall-clock time. The session ends 15:00 BST on Saturday 24 Oct
    # 2026; the clocks go back that night, so 24 h later it is 14:00 GMT on the Sunday.
    session = book(london(2026, 10, 24, 14, 0), now=london(2026, 10, 20, 9, 0))
    ended = london(2026, 10, 24, 15, 0)
    with time_machine.travel(london(2026, 10, 24, 15, 5), tick=False):
        session_complete(session=session, ended_at=ended)
    by_kind = rows(session)
    elapsed = by_kind[Kind.AFTERCARE_24H].due_at - ended
    assert elapsed.total_seconds() == 24 * 3600
    assert (by_kind[Kind.AFTERCARE_48H].due_at - ended).total_seconds() == 48 * 3600
    assert by_kind[Kind.AFTERCARE_24H].due_at == london(2026, 10, 25, 14, 0)
    assert by_kind[Kind.AFTERCARE_48H].due_at == london(2026, 10, 26, 14, 0)

    assert dispatch_at(london(2026, 10, 25, 13, 59)) == []
    assert kinds_sent(dispatch_at(london(2026, 10, 25, 14, 0))) == [Kind.AFTERCARE_24H]
    assert dispatch_at(london(2026, 10, 26, 13, 59)) == []
    assert kinds_sent(dispatch_at(london(2026, 10, 26, 14, 0))) == [Kind.AFTERCARE_48H]
    assert rows(session)[Kind.AFTERCARE_48H].status == Status.SENT


def test_aftercare_across_the_spring_change_is_an_hour_later_on_the_wall_clock(book):
    session = book(london(2026, 3, 28, 14, 0), now=london(2026, 3, 20, 9, 0))
    with time_machine.travel(london(2026, 3, 28, 15, 0), tick=False):
        session_complete(session=session)
    due = rows(session)[Kind.AFTERCARE_24H].due_at
    assert due == dt.datetime(2026, 3, 29, 15, 0, tzinfo=UTC)
    assert due.astimezone(london(2026, 1, 1).tzinfo).hour == 16


def test_cancelling_before_the_reminder_cancels_it_and_sends_a_cancellation_instead(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    dispatch_at(london(2026, 6, 1, 10, 1))  # the confirmation goes
    with time_machine.travel(london(2026, 6, 2, 10, 0), tick=False):
        session_cancel(session=session, reason="Patient called")
    by_kind = rows(session)
    assert by_kind[Kind.PREPARATION].status == Status.CANCELLED
    assert by_kind[Kind.REMINDER].status == Status.CANCELLED
    assert by_kind[Kind.CONFIRMATION].status == Status.SENT
    assert kinds_sent(dispatch_at(london(2026, 6, 2, 10, 1))) == [Kind.CANCELLATION]
    assert dispatch_at(london(2026, 6, 9, 9, 30)) == []


def test_rescheduling_re_times_pending_messages_and_sends_a_new_confirmation(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    prep_id = rows(session)[Kind.PREPARATION].pk
    with time_machine.travel(london(2026, 6, 1, 10, 0, 30), tick=False):
        session_reschedule(session=session, starts_at=london(2026, 6, 20, 11, 0))
    by_kind = rows(session)
    assert by_kind[Kind.PREPARATION].pk == prep_id
    assert by_kind[Kind.PREPARATION].due_at == london(2026, 6, 17, 9, 0)
    assert by_kind[Kind.REMINDER].due_at == london(2026, 6, 19, 9, 0)
    assert by_kind[Kind.CONFIRMATION].step == 1
    first = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION, step=0)
    assert (first.status, first.reason_code) == (Status.CANCELLED, Reason.SUPERSEDED)

    emails = dispatch_at(london(2026, 6, 1, 10, 1))
    assert len(emails) == 1 and "(updated)" in emails[0].subject
    assert dispatch_at(london(2026, 6, 9, 9, 30)) == []  # the old reminder time
    assert kinds_sent(dispatch_at(london(2026, 6, 19, 9, 0))) == [Kind.PREPARATION, Kind.REMINDER]


def test_a_reminder_already_sent_for_the_old_date_gets_a_new_one_for_the_new_date(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    dispatch_at(london(2026, 6, 9, 9, 0))
    assert rows(session)[Kind.REMINDER].status == Status.SENT
    with time_machine.travel(london(2026, 6, 9, 12, 0), tick=False):
        session_reschedule(session=session, starts_at=london(2026, 6, 16, 11, 0))
    reminders = OutboxMessage.objects.filter(session=session, kind=Kind.REMINDER).order_by("step")
    assert [(r.step, r.status) for r in reminders] == [(0, Status.SENT), (1, Status.PENDING)]
    assert reminders[1].due_at == london(2026, 6, 15, 9, 0)


def test_withdrawn_consent_skips_waiting_care_messages_with_the_reason(book, patient):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    with time_machine.travel(london(2026, 6, 2, 10, 0), tick=False):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.EMAIL_REMINDERS, given=False, by=None
        )
    for row in rows(session).values():
        assert row.status == Status.SKIPPED
        assert row.reason_code == Reason.NO_CARE_CONSENT
        assert "withdrew consent" in row.status_reason
    assert dispatch_at(london(2026, 6, 9, 9, 30)) == []


def test_consent_given_again_re_enables_messages_that_still_apply(book, patient):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    with time_machine.travel(london(2026, 6, 2, 10, 0), tick=False):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.EMAIL_REMINDERS, given=False, by=None
        )
    with time_machine.travel(london(2026, 6, 3, 10, 0), tick=False):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.EMAIL_REMINDERS, given=True, by=None
        )
    by_kind = rows(session)
    assert by_kind[Kind.PREPARATION].status == Status.PENDING
    assert by_kind[Kind.REMINDER].status == Status.PENDING
    assert kinds_sent(dispatch_at(london(2026, 6, 9, 9, 0))) == [
        Kind.CONFIRMATION,
        Kind.PREPARATION,
        Kind.REMINDER,
    ]


def test_a_consent_withdrawn_after_claiming_is_caught_before_sending(book, patient):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    from treatments.messaging.dispatch import messages_claim_due, messages_send_batch

    with time_machine.travel(london(2026, 6, 1, 10, 1), tick=False):
        [(claim, ids)] = messages_claim_due()
        type(patient).objects.filter(pk=patient.pk).update(email_reminders_consent=False)
        messages_send_batch(ids=ids, claim=claim)
    assert mail.outbox == []
    assert rows(session)[Kind.CONFIRMATION].reason_code == Reason.NO_CARE_CONSENT


def test_marketing_opt_out_never_stops_aftercare(book, patient):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    with time_machine.travel(london(2026, 6, 10, 14, 50), tick=False):
        session_complete(session=session)
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.MARKETING, given=False, by=None
        )
    assert rows(session)[Kind.AFTERCARE_24H].status == Status.PENDING
    assert kinds_sent(dispatch_at(london(2026, 6, 11, 14, 50))) == [Kind.AFTERCARE_24H]


def test_a_patient_without_consent_or_email_gets_rows_skipped_with_the_reason(book, clinic):
    from patients.tests.factories import PatientFactory

    no_consent = PatientFactory(email_reminders_consent=False)
    no_email = PatientFactory(email="")
    s1 = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0), who=no_consent)
    s2 = book(london(2026, 6, 11, 14, 0), now=london(2026, 6, 1, 10, 0), who=no_email)
    assert {r.reason_code for r in rows(s1).values()} == {Reason.NO_CARE_CONSENT}
    assert {r.reason_code for r in rows(s2).values()} == {Reason.NO_EMAIL}
    assert dispatch_at(london(2026, 6, 11, 9, 0)) == []


def test_a_message_past_its_useful_moment_is_missed_not_sent_late(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    dispatch_at(london(2026, 6, 1, 10, 1))
    # The dispatcher was down from before the preparation time until after the session began.
    assert dispatch_at(london(2026, 6, 10, 14, 5)) == []
    by_kind = rows(session)
    assert by_kind[Kind.PREPARATION].status == Status.MISSED
    assert by_kind[Kind.REMINDER].status == Status.MISSED
    assert by_kind[Kind.REMINDER].reason_code == Reason.PAST_USEFUL


def test_a_no_show_cancels_what_is_still_waiting(book):
    session = book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 10, 8, 0))
    with time_machine.travel(london(2026, 6, 10, 14, 30), tick=False):
        session_mark_no_show(session=session)
    assert rows(session)[Kind.CONFIRMATION].status == Status.CANCELLED
    assert not OutboxMessage.objects.filter(session=session, kind=Kind.AFTERCARE_24H).exists()


def test_a_booking_that_rolls_back_leaves_no_message(
    book, clinic, room, face, practitioner_profile
):
    from mesoclinic.errors import SlotTaken
    from patients.tests.factories import PatientFactory

    book(london(2026, 6, 10, 14, 0), now=london(2026, 6, 1, 10, 0))
    other = PatientFactory()
    with pytest.raises(SlotTaken):
        book(london(2026, 6, 10, 14, 15), now=london(2026, 6, 1, 10, 0), who=other)
    assert not OutboxMessage.objects.filter(patient=other).exists()
