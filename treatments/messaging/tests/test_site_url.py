"""`make run PORT=N`: the links in the emails point at the port the clinic is served on."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

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


def make_run_commands(*args: str) -> list[list[str]]:
    """The commands `make run ARGS` would run (make -n: printed, not run)."""
    printed = subprocess.run(  # noqa: S603
        ["make", "-n", "--no-print-directory", "run", *args],  # noqa: S607
        cwd=Path(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [shlex.split(line) for line in printed.splitlines() if "manage.py" in line]


def test_make_run_port_8001_serves_links_and_banner_on_8001_and_the_link_opens(
    book, settings, monkeypatch
):
    commands = {c[c.index("manage.py") + 1]: c for c in make_run_commands("PORT=8001")}
    assert commands["run_clinic"][-4:] == ["--host", "127.0.0.1", "--port", "8001"]
    for name in ("seed_demo", "run_clinic"):  # the seed's banner and the server's links
        assert "SITE_URL=http://127.0.0.1:8001" in commands[name]
    # What run_clinic then does with the environment make gave it.
    settings.MESSAGING_SITE_URL = None
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:8001")
    assert use_served_address_for_links(host="127.0.0.1", port=8001) == "http://127.0.0.1:8001"
    links = confirmation_links(book)
    assert links and all(link.startswith("http://127.0.0.1:8001/m/") for link in links)
    # The link's path is a page the server on 8001 serves.
    body = str(mail.outbox[0].body)
    [cancel] = re.findall(r"http://127\.0\.0\.1:8001(/m/cancel/[^/\s]+/)", body)
    with time_machine.travel(london(2026, 6, 26, 12), tick=False):
        assert "Cancel your appointment" in Client().get(cancel).content.decode()
