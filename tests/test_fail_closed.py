"""Fail closed: DEBUG with the published development SECRET_KEY serves only loopback addresses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from whitenoise.runserver_nostatic.management.commands.runserver import Command as Runserver

from mesoclinic.safety import DEVELOPMENT_SECRET_KEY, is_loopback

ROOT = Path(__file__).resolve().parent.parent
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - the address these tests expect to be refused


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "MESOCLINIC_ENV"}
    }
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("hosts", ["clinic.lan", "localhost,192.168.1.20", "*", EVERY_INTERFACE])
def test_a_network_host_in_development_is_refused_at_start_up(hosts):
    result = manage("check", ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "Refusing to serve on ALLOWED_HOSTS entry" in result.stderr
    assert "MESOCLINIC_ENV=production" in result.stderr


def test_loopback_hosts_in_development_start():
    result = manage("check", ALLOWED_HOSTS="localhost,127.0.0.1,[::1],app.localhost")
    assert result.returncode == 0, result.stderr


def test_a_network_host_with_debug_off_or_an_own_key_is_not_refused():
    assert manage("check", ALLOWED_HOSTS="clinic.lan", DEBUG="false").returncode == 0
    own_key = manage("check", ALLOWED_HOSTS="clinic.lan", SECRET_KEY="x" * 60)
    assert own_key.returncode == 0, own_key.stderr


@pytest.fixture
def served(monkeypatch, settings) -> list[str]:
    """runserver's serving replaced by a note of the address it would have served."""
    settings.DEBUG = True
    assert settings.SECRET_KEY == DEVELOPMENT_SECRET_KEY
    addresses: list[str] = []
    monkeypatch.setattr(Runserver, "run", lambda self, **options: addresses.append(self.addr))
    return addresses


@pytest.mark.parametrize("address", ["0.0.0.0:8000", "0:8000", "192.168.1.20:8000", "[::]:8000"])
def test_runserver_refuses_a_network_address_in_development(served, address):
    with pytest.raises(CommandError, match="MESOCLINIC_ENV=production"):
        call_command("runserver", address, use_reloader=False)
    assert served == []


@pytest.mark.parametrize("address", ["127.0.0.1:8000", "localhost:8001", "[::1]:8000", "8002"])
def test_runserver_serves_loopback_in_development(served, address):
    call_command("runserver", address, use_reloader=False)
    assert len(served) == 1


def test_runserver_serves_a_network_address_with_debug_off(served, settings):
    settings.DEBUG = False
    call_command("runserver", f"{EVERY_INTERFACE}:8000", use_reloader=False)
    assert served == [EVERY_INTERFACE]


def test_run_clinic_refuses_a_network_address_before_starting_anything(served):
    with pytest.raises(CommandError, match=re.escape("Refusing to serve on address '0.0.0.0'")):
        call_command("run_clinic", host=EVERY_INTERFACE)
    assert served == []


@pytest.mark.django_db
def test_a_request_from_another_machine_is_refused_in_development(settings, clinic):
    settings.DEBUG = True
    response = Client(REMOTE_ADDR="192.168.1.30").get("/accounts/login/")
    assert response.status_code == 403
    assert "MESOCLINIC_ENV=production" in response.content.decode()
    assert Client(REMOTE_ADDR="127.0.0.1").get("/accounts/login/").status_code == 200
    settings.DEBUG = False
    assert Client(REMOTE_ADDR="192.168.1.30").get("/accounts/login/").status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("app.localhost", True),
        (EVERY_INTERFACE, False),
        ("::", False),
        ("", False),
        ("*", False),
        (".localhost.example.org", False),
        ("localhost.example.org", False),
        ("10.0.0.1", False),
    ],
)
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback
