"""The dispatcher and sender against the database, with Django's in-memory mail backend."""

from __future__ import annotations

import datetime as dt
import smtplib
import threading
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection

from treatments.messaging import conf, dispatch
from treatments.messaging.dispatch import (
    dispatch_in_process,
    messages_claim_due,
    messages_reap_stale,
    messages_send_batch,
)
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.outbox import message_retry, message_schedule
from treatments.services.booking import session_cancel

from .conftest import london

pytestmark = pytest.mark.django_db
NOW = london(2026, 6, 1, 10, 0)


@pytest.fixture
def session(book):
    return book(london(2026, 6, 10, 14, 0), now=NOW)


def test_running_the_dispatcher_twice_sends_each_message_once(session):
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert dispatch_in_process() == 1
        assert dispatch_in_process() == 0
    assert len(mail.outbox) == 1
    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    assert (row.status, row.attempts, row.sent_to) == (Status.SENT, 1, session.patient.email)
    assert row.subject == mail.outbox[0].subject


def test_running_a_send_task_twice_sends_once(session):
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        [(claim, ids)] = messages_claim_due()
        messages_send_batch(ids=ids, claim=claim)
        messages_send_batch(ids=ids, claim=claim)
    assert len(mail.outbox) == 1


def test_a_send_task_whose_claim_was_taken_back_sends_nothing(session, settings):
    settings.MESSAGING_LEASE_SECONDS = 60
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        [(old_claim, ids)] = messages_claim_due()
    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        assert messages_reap_stale() == 1
        [(new_claim, new_ids)] = messages_claim_due()
        messages_send_batch(ids=ids, claim=old_claim)  # the lost task turns up late
        assert mail.outbox == []
        messages_send_batch(ids=new_ids, claim=new_claim)
    assert len(mail.outbox) == 1
    row = OutboxMessage.objects.get(pk=ids[0])
    assert (row.status, row.reclaims, row.attempts) == (Status.SENT, 1, 1)


def test_the_reaper_logs_each_reclaimed_row_as_a_possible_duplicate(session, settings, caplog):
    settings.MESSAGING_LEASE_SECONDS = 60
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        [(_, ids)] = messages_claim_due()
    with time_machine.travel(NOW + dt.timedelta(seconds=100), tick=False):
        assert messages_reap_stale() == 0  # lease not yet over
    with time_machine.travel(NOW + dt.timedelta(minutes=2, seconds=1), tick=False):
        assert messages_reap_stale() == 1
    assert f"outbox message {ids[0]}" in caplog.text
    assert "possible duplicate" in caplog.text
    assert OutboxMessage.objects.get(pk=ids[0]).status == Status.PENDING


def test_a_transient_smtp_error_is_retried_with_backoff(session):
    error = smtplib.SMTPResponseException(451, b"try later")
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False),
        mock.patch.object(dispatch._Sender, "send", side_effect=error),
    ):
        dispatch_in_process()
    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    assert row.status == Status.PENDING
    assert row.retry_at == NOW + dt.timedelta(minutes=2)
    assert "451" in row.last_error
    with time_machine.travel(NOW + dt.timedelta(seconds=110), tick=False):
        assert dispatch_in_process() == 0  # still backing off
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert dispatch_in_process() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def test_a_permanent_smtp_error_fails_the_message_and_staff_can_retry_it(session):
    error = smtplib.SMTPRecipientsRefused({"x@example.test": (550, b"no such user")})
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False),
        mock.patch.object(dispatch._Sender, "send", side_effect=error),
    ):
        dispatch_in_process()
    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    assert (row.status, row.reason_code) == (Status.FAILED, Reason.SMTP)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        message_retry(message=row)
        assert dispatch_in_process() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_transient_errors_give_up_after_the_maximum_attempts(session, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 2
    error = ConnectionRefusedError("mail server down")
    with mock.patch.object(dispatch._Sender, "send", side_effect=error):
        for minutes in (1, 10):
            with time_machine.travel(NOW + dt.timedelta(minutes=minutes), tick=False):
                dispatch_in_process()
    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    assert (row.status, row.attempts) == (Status.FAILED, 2)


def test_one_smtp_connection_is_opened_per_batch(book, patient):
    from patients.tests.factories import PatientFactory

    for hour in (9, 10, 11):
        book(london(2026, 6, 10, hour, 0), now=NOW, who=PatientFactory())
    opened = []
    real_get = dispatch.get_connection

    def counting(**kwargs):
        conn = real_get(**kwargs)
        real_open = conn.open
        conn.open = lambda: opened.append(1) or real_open()
        return conn

    with (
        time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False),
        mock.patch.object(dispatch, "get_connection", side_effect=counting),
    ):
        dispatch_in_process()
    assert len(mail.outbox) == 3
    assert len(opened) == 1


def test_a_session_cancelled_after_claiming_is_not_confirmed(session):
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        [(claim, ids)] = messages_claim_due()
        session_cancel(session=session, reason="Patient called")
        messages_send_batch(ids=ids, claim=claim)
    assert mail.outbox == []
    row = OutboxMessage.objects.get(pk=ids[0])
    assert (row.status, row.reason_code) == (Status.CANCELLED, Reason.NOT_APPLICABLE)


def test_retry_refuses_a_message_that_has_not_failed(session):
    from mesoclinic.errors import DomainError

    row = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    with pytest.raises(DomainError, match="Only a failed message"):
        message_retry(message=row)


def test_message_schedule_refuses_a_second_row_for_the_same_session_kind_and_step(session):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        message_schedule(
            kind=Kind.REMINDER,
            patient=session.patient,
            session_id=session.pk,
            due_at=NOW,
            expires_at=session.starts_at,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_claim_each_row_once(book, patient, settings):
    settings.MESSAGING_BATCH_SIZE = 7
    from patients.tests.factories import PatientFactory

    for day in range(1, 9):
        for hour in (9, 11, 13, 15, 17):
            book(london(2026, 6, 10 + day, hour, 0), now=NOW, who=PatientFactory())
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait()
            for _, ids in messages_claim_due():
                with lock:
                    claimed.extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


def test_rows_whose_send_task_the_broker_lost_are_taken_back_before_the_lease_ends(
    session, settings, caplog
):
    settings.MESSAGING_LEASE_SECONDS = 600
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        [(claim, ids)] = messages_claim_due()
    later = NOW + dt.timedelta(minutes=1, seconds=5)
    with time_machine.travel(later, tick=False):
        assert messages_reap_stale(claims_alive=lambda claims: set(claims)) == 0
        assert messages_reap_stale(claims_alive=lambda claims: set()) == 1
    row = OutboxMessage.objects.get(pk=ids[0])
    assert (row.status, row.claim, row.reclaims) == (Status.PENDING, None, 0)
    assert "lost by the broker" in caplog.text
    with time_machine.travel(later, tick=False):
        messages_send_batch(ids=ids, claim=claim)  # the lost task, if it ever turns up
        assert mail.outbox == []
        assert dispatch_in_process() == 1
    assert len(mail.outbox) == 1


def test_the_celery_tasks_run_twice_have_one_effect(session):
    from treatments.messaging import tasks

    queued: list[tuple[list[int], str]] = []
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False),
        mock.patch.object(tasks.send_batch, "delay", side_effect=lambda *a: queued.append(a)),
    ):
        assert tasks.dispatch_due() == 1
        assert tasks.dispatch_due() == 0
        [(ids, claim)] = queued
        tasks.send_batch(ids, claim)
        tasks.send_batch(ids, claim)  # redelivered by the broker
        assert tasks.reap() == 0
    assert len(mail.outbox) == 1


def test_beat_runs_the_dispatcher_and_the_reaper_on_the_dispatch_interval():
    import os

    from mesoclinic.celery import app

    interval = float(os.environ.get("MESSAGING_DISPATCH_INTERVAL") or 60)
    entries = [e for e in app.conf.beat_schedule.values() if e["task"].startswith("messaging.")]
    assert {entry["task"] for entry in entries} == {"messaging.dispatch_due", "messaging.reap"}
    assert all(entry["schedule"] == interval for entry in entries)
    assert int(interval) == conf.dispatch_interval()
