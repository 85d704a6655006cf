"""`make run PORT=N`: the links in the emails point at the port the clinic is served on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from mesoclinic.management.commands.run_clinic import use_served_address_for_links
from treatments.messaging.dispatch import dispatch_in_process

from .conftest import london

pytestmark = pytest.mark.django_db


def confirmation_links(book) -> list[str]:
    starts = london(2026, 7, 15, 14, 30)
    book(starts, now=starts - dt.timedelta(days=20))
    mail.outbox.clear()
    with time_machine.travel(starts - dt.timedelta(days=20, minutes=-1), tick=False):
        dispatch_in_process()
    [email] = mail.outbox
    return re.findall(r"https?://[^/\s]+/m/\w+/", str(email.body))


def test_an_email_sent_by_the_clinic_served_on_port_8001_links_to_port_8001(
    book, settings, monkeypatch
):
    settings.MESSAGING_SITE_URL = None
    # Recorded first, so that the value the command sets is undone after the test.
    monkeypatch.setenv("SITE_URL", "")
    monkeypatch.delenv("SITE_URL")
    assert use_served_address_for_links(host="127.0.0.1", port=8001) == "http://127.0.0.1:8001"
    links = confirmation_links(book)
    assert links and all(link.startswith("http://127.0.0.1:8001/m/") for link in links)


def test_site_url_wins_over_the_port_served_on(book, settings, monkeypatch):
    settings.MESSAGING_SITE_URL = None
    monkeypatch.setenv("SITE_URL", "https://clinic.example.test/")
    assert use_served_address_for_links(host="127.0.0.1", port=8001) == (
        "https://clinic.example.test"
    )
    links = confirmation_links(book)
    assert links and all(link.startswith("https://clinic.example.test/m/") for link in links)
