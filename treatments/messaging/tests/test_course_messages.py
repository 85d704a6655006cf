"""Follow-up and maintenance nudges, course completed, and the report-a-reaction link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patients.models import ConsentChange
from patients.services import patient_consent_set
from treatments.courses.services import course_book_step, course_stop
from treatments.courses.tests.factories import CourseFactory, ProtocolFactory
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.models import Session
from treatments.services.booking import session_cancel, session_complete

from .conftest import london

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(patient, face, practitioner_profile, room):
    protocol = ProtocolFactory(
        name="Skin, two sessions",
        sessions_count=2,
        interval_min_days=14,
        interval_max_days=21,
        maintenance_interval_days=90,
        default_session_type=face,
    )
    return CourseFactory(
        patient=patient, protocol=protocol, practitioner=practitioner_profile, room=room
    )


def book_step(course, number: int, starts: dt.datetime, now: dt.datetime) -> Session:
    with time_machine.travel(now, tick=False):
        return course_book_step(course=course, step_number=number, starts_at=starts).session


def complete(session: Session, at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        session_complete(session=session)


def send(when: dt.datetime) -> list:
    mail.outbox.clear()
    with time_machine.travel(when, tick=False):
        dispatch_in_process()
    return list(mail.outbox)


def kinds(emails) -> list[str]:
    ids = [int(e.extra_headers["X-Mesoclinic-Outbox"]) for e in emails]
    return sorted(OutboxMessage.objects.filter(pk__in=ids).values_list("kind", flat=True))


@pytest.fixture
def first_done(course):
    first = book_step(course, 1, london(2026, 6, 1, 10, 0), now=london(2026, 5, 20, 9, 0))
    send(london(2026, 5, 31, 9, 0))  # confirmation, preparation, reminder
    complete(first, london(2026, 6, 1, 10, 50))
    return first


def test_an_unbooked_next_session_gets_a_nudge_when_its_window_opens_and_one_a_week_later(
    course, first_done
):
    nudges = OutboxMessage.objects.filter(course=course).order_by("due_at")
    assert [(n.kind, n.step, n.due_at) for n in nudges] == [
        (Kind.FOLLOW_UP, 2, london(2026, 6, 15, 9, 0)),
        (Kind.FOLLOW_UP_AGAIN, 2, london(2026, 6, 22, 9, 0)),
    ]
    assert Kind.FOLLOW_UP not in kinds(send(london(2026, 6, 15, 8, 59)))
    [nudge] = send(london(2026, 6, 15, 9, 0))
    assert kinds([nudge]) == [Kind.FOLLOW_UP]
    assert "session 2 of 2" in nudge.body
    assert "/m/book/" in nudge.body and "/m/unsubscribe/" in nudge.body
    assert "optional message" in nudge.body
    assert re.search(r"- \w+day \d+ June at \d\d:\d\d", nudge.body)
    assert kinds(send(london(2026, 6, 22, 9, 0))) == [Kind.FOLLOW_UP_AGAIN]


def test_booking_the_next_session_stops_the_nudges(course, first_done):
    book_step(course, 2, london(2026, 6, 16, 10, 0), now=london(2026, 6, 10, 12, 0))
    sent = kinds(send(london(2026, 6, 15, 9, 0)))
    assert sent == [Kind.CONFIRMATION, Kind.PREPARATION, Kind.REMINDER]  # for session 2
    assert Kind.FOLLOW_UP_AGAIN not in kinds(send(london(2026, 6, 22, 9, 0)))
    for nudge in OutboxMessage.objects.filter(course=course):
        assert (nudge.status, nudge.reason_code) == (Status.CANCELLED, Reason.NOT_APPLICABLE)


def test_booking_the_next_session_cancels_its_nudges_at_once_without_a_dispatcher_run(
    course, first_done
):
    assert set(OutboxMessage.objects.filter(course=course).values_list("status", flat=True)) == {
        Status.PENDING
    }
    book_step(course, 2, london(2026, 6, 16, 10, 0), now=london(2026, 6, 10, 12, 0))
    nudges = OutboxMessage.objects.filter(course=course, step=2)
    assert sorted(nudges.values_list("kind", "status", "reason_code")) == [
        (Kind.FOLLOW_UP, Status.CANCELLED, Reason.NOT_APPLICABLE),
        (Kind.FOLLOW_UP_AGAIN, Status.CANCELLED, Reason.NOT_APPLICABLE),
    ]
    assert all("booked" in n.status_reason for n in nudges)


def test_cancelling_the_booked_next_session_schedules_its_nudges_again(course, first_done):
    second = book_step(course, 2, london(2026, 6, 16, 10, 0), now=london(2026, 6, 10, 12, 0))
    with time_machine.travel(london(2026, 6, 11, 12, 0), tick=False):
        session_cancel(session=second, reason="patient unwell")
    assert set(
        OutboxMessage.objects.filter(course=course, step=2).values_list("status", flat=True)
    ) == {Status.PENDING}


def test_stopping_the_course_cancels_its_waiting_nudges_at_once(course, first_done):
    with time_machine.travel(london(2026, 6, 5, 12, 0), tick=False):
        course_stop(course=course, reason="Nodules after session 1")
    assert sorted(
        OutboxMessage.objects.filter(course=course).values_list("kind", "status", "reason_code")
    ) == [
        (Kind.FOLLOW_UP, Status.CANCELLED, Reason.NOT_APPLICABLE),
        (Kind.FOLLOW_UP_AGAIN, Status.CANCELLED, Reason.NOT_APPLICABLE),
    ]
    assert send(london(2026, 6, 15, 9, 0)) == []


def test_a_marketing_opt_out_stops_nudges(course, first_done, patient):
    with time_machine.travel(london(2026, 6, 5, 12, 0), tick=False):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.MARKETING, given=False, by=None
        )
    assert send(london(2026, 6, 15, 9, 0)) == []
    assert {n.reason_code for n in OutboxMessage.objects.filter(course=course)} == {
        Reason.NO_MARKETING_CONSENT
    }


def test_the_book_link_books_an_offered_slot_once(course, first_done):
    [nudge] = send(london(2026, 6, 15, 9, 0))
    path = re.search(r"http://127\.0\.0\.1:8000(/m/book/\S+/)", nudge.body).group(1)
    client = Client()
    with time_machine.travel(london(2026, 6, 15, 12, 0), tick=False):
        page = client.get(path)
        assert page.status_code == 200
        first_slot = re.search(r'name="slot" value="([^"]+)"', page.content.decode()).group(1)
        done = client.post(path, {"slot": first_slot})
        again = client.post(path, {"slot": first_slot})
    assert done.status_code == 200, done.content.decode()[:2000]
    assert "Your session is booked" in done.content.decode()
    step2 = course.steps.get(number=2)
    assert step2.session is not None
    assert step2.session.starts_at == dt.datetime.fromisoformat(first_slot)
    assert again.status_code == 410
    assert Session.objects.filter(patient=course.patient).count() == 2


def test_the_last_session_sends_course_completed_and_schedules_maintenance(course, first_done):
    second = book_step(course, 2, london(2026, 6, 16, 10, 0), now=london(2026, 6, 10, 12, 0))
    complete(second, london(2026, 6, 16, 10, 50))
    maintenance = OutboxMessage.objects.get(course=course, kind=Kind.MAINTENANCE)
    assert maintenance.due_at == london(2026, 9, 14, 9, 0)  # 16 June + 90 days, 09:00 BST
    assert Kind.COURSE_COMPLETED in kinds(send(london(2026, 6, 16, 11, 0)))
    [email] = send(london(2026, 9, 14, 9, 0))
    assert kinds([email]) == [Kind.MAINTENANCE]
    assert "/m/book/" in email.body


def test_the_reaction_link_lands_in_the_reactions_list_and_a_severe_one_is_flagged_today(
    first_done,
):
    from treatments.clinical.models import Reaction
    from treatments.clinical.selectors import dashboard_reactions

    [aftercare] = send(london(2026, 6, 2, 10, 50))
    path = re.search(r"http://127\.0\.0\.1:8000(/m/reaction/\S+/)", aftercare.body).group(1)
    client = Client()
    form = {
        "type": "swelling",
        "severity": "severe",
        "onset": "2026-06-02T08:30",
        "description": "Swollen and hot <b>since</b> this morning 😟",
    }
    with time_machine.travel(london(2026, 6, 2, 11, 0), tick=False):
        assert client.get(path).status_code == 200
        done = client.post(path, form)
        again = client.post(path, form)
        flagged = dashboard_reactions()
    assert done.status_code == 200
    assert "call the clinic now" in done.content.decode()
    reaction = Reaction.objects.get()
    assert (reaction.source, reaction.severity, reaction.session_id) == (
        "patient",
        "severe",
        first_done.pk,
    )
    assert reaction.onset == london(2026, 6, 2, 8, 30)
    assert reaction in flagged["severe_today"]
    assert again.status_code == 410
    assert Reaction.objects.count() == 1


def test_a_reaction_report_with_bad_input_says_why_and_records_nothing(first_done):
    from treatments.clinical.models import Reaction

    [aftercare] = send(london(2026, 6, 2, 10, 50))
    path = re.search(r"http://127\.0\.0\.1:8000(/m/reaction/\S+/)", aftercare.body).group(1)
    with time_machine.travel(london(2026, 6, 2, 11, 0), tick=False):
        response = Client().post(
            path,
            {"type": "other", "severity": "mild", "onset": "2026-06-09T08:30", "description": ""},
        )
        retry = Client().post(
            path, {"type": "pain", "severity": "mild", "onset": "2026-06-02T08:30"}
        )
    assert response.status_code == 200
    assert "The onset cannot be in the future" in response.content.decode()
    assert retry.status_code == 200  # the link still works after a refused attempt
    assert Reaction.objects.count() == 1


def test_the_maintenance_link_books_a_session_and_the_nudge_then_no_longer_applies(
    course, first_done
):
    second = book_step(course, 2, london(2026, 6, 16, 10, 0), now=london(2026, 6, 10, 12, 0))
    complete(second, london(2026, 6, 16, 10, 50))
    [email] = send(london(2026, 9, 14, 9, 0))
    path = re.search(r"http://127\.0\.0\.1:8000(/m/book/\S+/)", email.body).group(1)
    client = Client()
    with time_machine.travel(london(2026, 9, 14, 12, 0), tick=False):
        page = client.get(path)
        assert "Book your maintenance session" in page.content.decode()
        slot = re.search(r'name="slot" value="([^"]+)"', page.content.decode()).group(1)
        done = client.post(path, {"slot": slot})
    assert "Your session is booked" in done.content.decode()
    booked = Session.objects.get(patient=course.patient, status=Session.Status.BOOKED)
    assert booked.starts_at == dt.datetime.fromisoformat(slot)
    assert booked.practitioner_id == course.practitioner_id
    from treatments.messaging.selectors import course_message_applies

    maintenance = OutboxMessage.objects.get(course=course, kind=Kind.MAINTENANCE)
    with time_machine.travel(london(2026, 9, 14, 12, 1), tick=False):
        assert not course_message_applies(maintenance)


def test_sending_a_nudge_reads_its_course_and_practitioner_with_the_claimed_row(course, first_done):
    with CaptureQueriesContext(connection) as queries:
        [nudge] = send(london(2026, 6, 15, 9, 0))
    assert kinds([nudge]) == [Kind.FOLLOW_UP]
    own = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().startswith("SELECT") and 'FROM "courses_course" ' in q["sql"]
    ]
    assert own == []
