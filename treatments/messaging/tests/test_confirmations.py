"""A patient's confirmation belongs to the start time it was sent for: a link from before a move
says so and changes nothing; the desk sees whether and when the patient confirmed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, SessionConfirmation, UsedLink
from treatments.messaging.tokens import link_url
from treatments.services.booking import session_reschedule

from .conftest import london

pytestmark = pytest.mark.django_db
BOOKED_AT = london(2026, 6, 1, 10, 0)
STARTS = london(2026, 6, 10, 14, 0)
MOVED = london(2026, 6, 12, 9, 30)
CLICKED = london(2026, 6, 5, 12, 0)


def at(when: dt.datetime):
    return time_machine.travel(when, tick=False)


@pytest.fixture
def session(book):
    return book(STARTS, now=BOOKED_AT)


def confirm_links() -> list[str]:
    """The confirm link of every email sent so far, oldest first."""
    found = [
        re.search(r"http://127\.0\.0\.1:8000(/m/confirm/[^/\s]+/)", str(email.body))
        for email in mail.outbox
        if "/m/confirm/" in str(email.body)
    ]
    assert all(found), "a confirmation email without its confirm link"
    return [match.group(1) for match in found if match is not None]


@pytest.fixture
def first_link(session) -> str:
    with at(BOOKED_AT + dt.timedelta(minutes=1)):
        dispatch_in_process()
    [link] = confirm_links()
    return link


def move(session) -> None:
    with at(BOOKED_AT + dt.timedelta(days=1)):
        session_reschedule(session=session, starts_at=MOVED)


def test_a_confirm_link_names_its_confirmation_email_and_the_start_time(session, first_link):
    token = first_link.split("/")[3]
    payload = signing.loads(token, salt="mesoclinic.messaging.link.confirm")
    message = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    assert payload["m"] == message.pk
    assert payload["t"] == int(STARTS.timestamp())


def test_a_confirm_link_from_before_a_move_says_so_and_changes_nothing(session, first_link):
    move(session)
    client = Client()
    with at(CLICKED):
        shown = client.get(first_link)
        posted = client.post(first_link)
    for response in (shown, posted):
        text = response.content.decode()
        assert response.status_code == 409
        assert "This confirmation was for Wednesday 10 June 2026 at 14:00" in text
        assert "your appointment has moved to Friday 12 June 2026 at 09:30" in text
        assert "A new confirmation was sent" in text
    assert not SessionConfirmation.objects.exists()
    assert not UsedLink.objects.exists()


def test_the_new_time_s_link_confirms_it(session, first_link):
    move(session)
    with at(BOOKED_AT + dt.timedelta(days=1, minutes=1)):
        dispatch_in_process()
    new_link = confirm_links()[-1]
    assert new_link != first_link
    with at(CLICKED):
        response = Client().post(new_link)
    assert response.status_code == 200
    confirmation = SessionConfirmation.objects.get(session=session)
    assert confirmation.starts_at == MOVED
    assert confirmation.message == OutboxMessage.objects.get(
        session=session, kind=Kind.CONFIRMATION, step=1
    )


def test_an_older_link_without_the_start_time_is_judged_by_its_confirmation_email(
    session, first_link
):
    old = OutboxMessage.objects.get(session=session, kind=Kind.CONFIRMATION)
    link = link_url(action="confirm", payload={"s": session.pk, "m": old.pk}, expires_at=STARTS)
    move(session)
    with at(CLICKED):
        response = Client().post(link)
    assert response.status_code == 409
    assert "This confirmation was for Wednesday 10 June 2026 at 14:00" in response.content.decode()
    assert not SessionConfirmation.objects.exists()


def test_the_session_page_shows_the_patient_s_confirmation_until_a_reschedule_resets_it(
    session, first_link, front_desk
):
    page = reverse("treatments:session_detail", args=[session.pk])
    with at(CLICKED):
        assert "Not confirmed yet" in front_desk.get(page).content.decode()
        Client().post(first_link)
        shown = front_desk.get(page).content.decode()
    assert "Confirmed by the patient on 5 Jun 2026 at 12:00" in shown
    assert "Not confirmed yet" not in shown
    confirmation = SessionConfirmation.objects.get(session=session)
    assert (confirmation.starts_at, confirmation.confirmed_at) == (STARTS, CLICKED)

    move(session)

    assert not SessionConfirmation.objects.exists()
    with at(CLICKED):
        assert "Not confirmed yet" in front_desk.get(page).content.decode()


def test_a_move_that_keeps_the_start_time_keeps_the_confirmation(
    session, first_link, room2, front_desk
):
    with at(CLICKED):
        Client().post(first_link)
        session_reschedule(session=session, starts_at=STARTS, room=room2)
    assert SessionConfirmation.objects.get(session=session).starts_at == STARTS


def test_the_calendar_cell_marks_a_session_the_patient_confirmed(session, first_link, front_desk):
    url = reverse("treatments:calendar") + "?view=day&date=2026-06-10"
    with at(CLICKED):
        before = front_desk.get(url).content.decode()
        Client().post(first_link)
        after = front_desk.get(url).content.decode()
    assert "cal-confirmed" not in before
    # One confirmed session: the mark is on its block and repeated in its popover.
    assert after.count('title="Confirmed by the patient"') == 2
