"""The booking's hook table: which apps react to a session change, in which order, and that a
failing reaction rolls the whole booking back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mesoclinic.hooks import HookMissing, HookTable
from patients.tests.factories import PatientFactory
from treatments import booking_hooks
from treatments.booking_hooks import FreedTime, freed_hooks, session_hooks
from treatments.clinic_time import local_to_utc
from treatments.clinical.services import questionnaire
from treatments.courses import session_events
from treatments.messaging import reactions
from treatments.messaging.models import OutboxMessage
from treatments.models import Session
from treatments.services.booking import (
    session_book,
    session_cancel,
    session_complete,
    session_mark_no_show,
    session_reschedule,
)
from treatments.waitlist import services as waitlist

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked(practitioner_profile, room, face):
    return session_book(
        patient=PatientFactory(),
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=local_to_utc(dt.datetime(2026, 6, 2, 10), LONDON),
    )


def test_the_table_runs_courses_then_messaging_then_the_questionnaire():
    # Courses first: the messaging reaction reads the course already completed by its last
    # session (course completed / maintenance nudges). The questionnaire has its own row.
    assert session_hooks.handlers() == [
        ("courses", session_events.on_session_change),
        ("messaging", reactions.on_session_change),
        ("questionnaire", questionnaire.on_session_change),
    ]


def test_freed_time_goes_to_the_waiting_list():
    assert freed_hooks.handlers() == [("waitlist", waitlist.on_time_freed)]


@pytest.mark.django_db
def test_cancel_no_show_and_move_say_which_time_they_freed(booked, monkeypatch):
    freed: list[FreedTime] = []
    monkeypatch.setitem(freed_hooks._handlers, "waitlist", freed.append)
    old = (booked.starts_at, booked.blocked_until)
    moved = session_reschedule(session=booked, starts_at=booked.starts_at + dt.timedelta(hours=2))
    assert [(f.starts_at, f.ends_at, f.practitioner_id, f.room_id) for f in freed] == [
        (*old, booked.practitioner_id, booked.room_id)
    ]
    session_cancel(session=moved, reason="Patient unwell")
    assert (freed[-1].starts_at, freed[-1].ends_at) == (moved.starts_at, moved.blocked_until)
    again = session_book(
        patient=PatientFactory(),
        session_type=booked.session_type,
        practitioner=booked.practitioner,
        room=booked.room,
        starts_at=booked.starts_at,
    )
    with time_machine.travel(again.starts_at + dt.timedelta(minutes=5), tick=False):
        session_mark_no_show(session=again)
    assert (freed[-1].starts_at, len(freed)) == (again.starts_at, 3)


@pytest.mark.django_db
def test_a_failing_freed_time_handler_rolls_the_cancel_back(booked, monkeypatch):
    def boom(freed):
        raise RuntimeError("the waiting list failed")

    monkeypatch.setitem(freed_hooks._handlers, "waitlist", boom)
    with pytest.raises(RuntimeError):
        session_cancel(session=booked, reason="Patient unwell")
    booked.refresh_from_db()
    assert booked.status == Session.Status.BOOKED


@pytest.mark.django_db
def test_every_change_calls_each_handler_once_in_order(booked, monkeypatch):
    calls = []
    for slot in session_hooks.slots:
        monkeypatch.setitem(
            session_hooks._handlers,
            slot,
            lambda session, change, slot=slot: calls.append((slot, session.pk, change)),
        )
    with time_machine.travel(booked.starts_at + dt.timedelta(minutes=50), tick=False):
        session_complete(session=booked)
    assert calls == [
        ("courses", booked.pk, "completed"),
        ("messaging", booked.pk, "completed"),
        ("questionnaire", booked.pk, "completed"),
    ]


@pytest.mark.django_db
def test_a_failing_handler_rolls_the_booking_back(practitioner_profile, room, face, monkeypatch):
    def boom(session, change):
        raise RuntimeError("the reaction failed")

    monkeypatch.setitem(session_hooks._handlers, "messaging", boom)
    with pytest.raises(RuntimeError, match="the reaction failed"):
        session_book(
            patient=PatientFactory(),
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=local_to_utc(dt.datetime(2026, 6, 2, 10), LONDON),
        )
    assert not Session.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_failing_handler_rolls_a_cancellation_back(booked, monkeypatch):
    messages_before = set(OutboxMessage.objects.values_list("pk", "status"))

    def boom(session, change):
        raise RuntimeError("the reaction failed")

    monkeypatch.setitem(session_hooks._handlers, "messaging", boom)
    with pytest.raises(RuntimeError):
        session_cancel(session=booked, reason="Patient unwell")
    booked.refresh_from_db()
    assert booked.status == Session.Status.BOOKED
    assert set(OutboxMessage.objects.values_list("pk", "status")) == messages_before


def test_an_unknown_change_is_refused():
    with pytest.raises(ValueError, match="unknown session change"):
        booking_hooks.session_changed(session=Session(), change="teleported")


def test_a_table_refuses_unknown_slots_and_a_second_handler():
    table: HookTable[[int]] = HookTable("test hook", slots=("a", "b"))

    def first(n: int) -> None: ...
    def second(n: int) -> None: ...

    with pytest.raises(ValueError, match="unknown test hook slot"):
        table.register("c", first)
    table.register("a", first)
    table.register("a", first)  # ready() may run twice: the same handler is fine
    with pytest.raises(ValueError, match="already filled"):
        table.register("a", second)
    with pytest.raises(HookMissing, match="b"):
        table.call(1)
