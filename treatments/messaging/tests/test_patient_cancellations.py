"""A patient who cancels through the email's link is seen by the desk: a notice on Today until
someone marks it seen (audited), a line on the session page, a mark on the freed calendar slot
(whose cached grid the cancellation replaces)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import PatientCancellation
from treatments.models import Session
from treatments.services.booking import session_cancel

from .conftest import london

pytestmark = pytest.mark.django_db
BOOKED_AT = london(2026, 6, 1, 10, 0)
STARTS = london(2026, 6, 9, 14, 0)  # a Tuesday
CLICKED = london(2026, 6, 5, 14, 2)
TODAY = reverse("treatments:today")
CALENDAR = reverse("treatments:calendar")


def at(when: dt.datetime):
    return time_machine.travel(when, tick=False)


@pytest.fixture
def cancel_link(book):
    """Book a session (for `who`, at `starts`) and return the cancel link its email carries."""

    def _link(starts: dt.datetime = STARTS, who=None) -> tuple[Session, str]:
        session = book(starts, now=BOOKED_AT, who=who)
        mail.outbox.clear()
        with at(BOOKED_AT + dt.timedelta(minutes=1)):
            dispatch_in_process()
        [email] = [m for m in mail.outbox if m.to == [session.patient.email]]
        [path] = re.findall(r"http://127\.0\.0\.1:8000(/m/cancel/[^/\s]+/)", str(email.body))
        return session, path

    return _link


def cancel_by_link(path: str, when: dt.datetime = CLICKED) -> None:
    with at(when):
        assert Client().post(path).status_code == 200


def notices(html: str) -> list[str]:
    return re.findall(r'data-patient-cancellation="(\d+)"', html)


def test_a_cancellation_by_link_is_a_notice_on_the_desks_today_page(cancel_link, front_desk):
    session, path = cancel_link()
    with at(CLICKED):
        assert notices(front_desk.get(TODAY).content.decode()) == []
    cancel_by_link(path)
    with at(CLICKED + dt.timedelta(minutes=5)):
        html = front_desk.get(TODAY).content.decode()
    cancellation = PatientCancellation.objects.get(session=session)
    assert cancellation.cancelled_at == CLICKED
    assert notices(html) == [str(cancellation.pk)]
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Jane Doe cancelled Tuesday 9 Jun 14:00 by email link" in text
    assert "cancelled 5 Jun at 14:02" in text


def test_the_notices_are_newest_first(cancel_link, front_desk):
    first, first_path = cancel_link(STARTS)
    second, second_path = cancel_link(STARTS + dt.timedelta(days=1), who=PatientFactory())
    cancel_by_link(second_path, CLICKED)
    cancel_by_link(first_path, CLICKED + dt.timedelta(hours=1))
    with at(CLICKED + dt.timedelta(hours=2)):
        html = front_desk.get(TODAY).content.decode()
    by_session = dict(PatientCancellation.objects.values_list("session_id", "pk"))
    assert notices(html) == [str(by_session[first.pk]), str(by_session[second.pk])]


def test_marking_it_seen_removes_the_notice_once_and_is_audited(cancel_link, front_desk):
    session, path = cancel_link()
    cancel_by_link(path)
    cancellation = PatientCancellation.objects.get(session=session)
    seen = reverse("treatments:patient_cancellation_seen", args=[cancellation.pk])
    with at(CLICKED + dt.timedelta(minutes=10)):
        assert front_desk.post(seen)["Location"] == TODAY
        front_desk.post(seen)  # a second press (another tab) changes nothing
        html = front_desk.get(TODAY).content.decode()
    assert notices(html) == []
    cancellation.refresh_from_db()
    assert cancellation.acknowledged_at == CLICKED + dt.timedelta(minutes=10)
    assert cancellation.acknowledged_by.username == "frontdesk"
    audit = AuditEntry.objects.exclude(action="login").filter(object_type="patientcancellation")
    assert [(a.actor_id, a.patient_id, a.object_id) for a in audit] == [
        (cancellation.acknowledged_by_id, session.patient_id, cancellation.pk)
    ]


def test_the_session_page_says_the_patient_cancelled_by_link_and_who_saw_it(
    cancel_link, front_desk
):
    session, path = cancel_link()
    page = reverse("treatments:session_detail", args=[session.pk])
    cancel_by_link(path)
    with at(CLICKED + dt.timedelta(minutes=1)):
        before = front_desk.get(page).content.decode()
        seen = reverse(
            "treatments:patient_cancellation_seen", args=[session.patient_cancellation.pk]
        )
        assert front_desk.post(seen, {"back": "session"})["Location"] == page
        after = front_desk.get(page).content.decode()
    assert 'id="patient-cancellation"' in before
    assert "Cancelled by the patient</span> through the email link on 5 Jun 2026 at 14:02" in (
        before
    )
    assert "Mark seen" in before and "Mark seen" not in after
    assert "Seen by Fran Desk on 5 Jun at 14:03" in after


def test_a_cancellation_by_the_desk_raises_no_notice(book, front_desk):
    session = book(STARTS, now=BOOKED_AT)
    with at(CLICKED):
        session_cancel(session=session, reason="Patient phoned")
        html = front_desk.get(TODAY).content.decode()
        page = front_desk.get(reverse("treatments:session_detail", args=[session.pk]))
    assert not PatientCancellation.objects.exists()
    assert notices(html) == []
    assert 'id="patient-cancellation"' not in page.content.decode()


# Committed (transaction=True): on PostgreSQL the calendar version changes at commit, and a
# transaction with uncommitted calendar changes never caches the grid.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_marks_the_freed_slot_and_the_cached_grid_is_replaced(
    cancel_link, front_desk, view
):
    session, path = cancel_link()
    url = f"{CALENDAR}?view={view}&date=2026-06-09"
    with at(CLICKED):
        before = front_desk.get(url)
        again = front_desk.get(url)
    assert again.context["calendar"].cached  # the grid is served from the cache
    assert f'id="session-{session.pk}"' in before.content.decode()
    cancel_by_link(path)
    with at(CLICKED + dt.timedelta(minutes=1)):
        after = front_desk.get(url)
    html = after.content.decode()
    assert not after.context["calendar"].cached
    assert f'id="session-{session.pk}"' not in html  # the slot is free again
    [mark] = re.findall(r"<a class=\"cal-freed cal-freed-patient\"[^>]*>.*?</a>", html)
    assert f'href="/sessions/{session.pk}/"' in mark
    assert "cancelled by patient 5 Jun 14:02" in mark
    # The mark comes from its own table, which the calendar version watches too (messaging 0005).
    with at(CLICKED + dt.timedelta(minutes=2)):
        assert front_desk.get(url).context["calendar"].cached
        PatientCancellation.objects.filter(session=session).delete()
        gone = front_desk.get(url)
    assert not gone.context["calendar"].cached
    assert "cal-freed-patient" not in gone.content.decode()
    assert "cancelled</a>" in gone.content.decode()


def test_the_today_page_reads_a_fixed_number_of_queries_however_many_notices(
    book, front_desk, face
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries, at(CLICKED):
            assert front_desk.get(TODAY).status_code == 200
        return len(queries)

    def cancelled_by_patient(hour: int) -> None:
        session = book(STARTS.replace(hour=hour), now=BOOKED_AT, who=PatientFactory())
        with at(CLICKED):
            session_cancel(session=session, reason="Cancelled by the patient")
        PatientCancellation.objects.create(session=session, cancelled_at=CLICKED)

    cancelled_by_patient(9)
    small = count()
    for hour in range(10, 18):
        cancelled_by_patient(hour)
    assert count() == small
