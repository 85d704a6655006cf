"""End to end: a real Redis broker, a real Celery worker process, a real SMTP server.

Needs PostgreSQL (SKIP LOCKED; the worker process connects to the committed test database) and
Redis. The tests use their own Redis database, MESSAGING_TEST_REDIS_URL (default db 14 on the
REDIS_URL host), and flush only that one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesoclinic_x \\
    MESSAGING_TEST_REDIS_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/pytest treatments/messaging/tests/test_integration.py
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from mesoclinic.celery import app as celery_app
from tests.support.smtp import SmtpSink, seed_due_confirmations, smtp_server
from treatments.messaging.dispatch import messages_dispatch_due
from treatments.messaging.models import OutboxMessage, Status

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ROOT = Path(django_settings.BASE_DIR)
# Dispatcher interval and send lease for these tests, seconds (production: 60 and 54).
INTERVAL = 4
LEASE = 12


def _test_redis_url() -> str:
    explicit = os.environ.get("MESSAGING_TEST_REDIS_URL")
    if explicit:
        return explicit
    base = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit((base.scheme, base.netloc, "/14", "", ""))


@pytest.fixture
def redis_url():
    url = _test_redis_url()
    client = redis.Redis.from_url(url)
    client.ping()
    client.flushdb()
    previous = celery_app.conf.broker_url
    _point_celery_at(url)
    yield url
    celery_app.pool.force_close_all()
    _point_celery_at(previous)
    client.flushdb()


def _point_celery_at(url: str) -> None:
    # This process enqueues too (the dispatchers under test): drop the cached broker pools.
    # celery-types declares these read-only or leaves the private pools out; Celery sets them.
    celery_app.conf.broker_url = url  # type: ignore[misc]
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def smtp():
    sink = SmtpSink()
    with smtp_server(sink) as port:
        yield sink, port


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, *, log: Path, env: dict[str, str], beat: bool) -> None:
        self.log, self.env, self.beat = log, env, beat
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "celery", "-A", "mesoclinic", "worker",
            "--pool=prefork", "--concurrency=2", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname=messaging-test-{time.monotonic_ns()}@%h",
        ]  # fmt: skip
        if self.beat:
            cmd += ["--beat", f"--schedule={self.log.parent / 'beat-schedule'}"]
        offset = self.log.stat().st_size if self.log.exists() else 0
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            cmd, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes()[offset:]:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as an OOM killer or a power cut would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            if self.proc:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def worker_factory(transactional_db, redis_url, smtp, tmp_path, settings):
    settings.MESSAGING_DISPATCH_INTERVAL = INTERVAL
    settings.MESSAGING_LEASE_SECONDS = LEASE
    settings.MESSAGING_BATCH_SIZE = 25
    settings.MESSAGING_MAX_IN_FLIGHT = 100
    _, port = smtp
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
        "MESSAGING_DISPATCH_INTERVAL": str(INTERVAL),
        "MESSAGING_LEASE_SECONDS": str(LEASE),
        "MESSAGING_BATCH_SIZE": "25",
        "MESSAGING_MAX_IN_FLIGHT": "100",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    workers: list[Worker] = []

    def make(*, beat: bool) -> Worker:
        worker = Worker(log=tmp_path / "worker.log", env=env, beat=beat)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()
    connection.close()


def _due_confirmations(n: int, *, clinic, room, face, practitioner_profile) -> list[int]:
    """n booked sessions (two hours apart) with a due confirmation each, committed."""
    return seed_due_confirmations(
        n, room=room, session_type=face, practitioner=practitioner_profile
    )


def _wait_all_sent(ids: list[int], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if OutboxMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids):
            return time.monotonic() - start
        time.sleep(0.25)
    by_status = collections.Counter(
        OutboxMessage.objects.filter(pk__in=ids).values_list("status", flat=True)
    )
    raise AssertionError(f"not all sent after {timeout}s: {dict(by_status)}")


def _wait_sink(sink: SmtpSink, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sink.count() < at_least and time.monotonic() < deadline:
        time.sleep(0.05)


def _expected_ids(ids: list[int]) -> set[str]:
    return {f"<outbox-{pk}@mesoclinic.localhost>" for pk in ids}


@pytest.fixture
def world(clinic, room, face, practitioner_profile):
    return {
        "clinic": clinic,
        "room": room,
        "face": face,
        "practitioner_profile": practitioner_profile,
    }


def test_three_dispatchers_at_once_send_1000_messages_exactly_once(worker_factory, smtp, world):
    sink, _ = smtp
    ids = _due_confirmations(1000, **world)
    worker_factory(beat=False).start()
    from treatments.messaging.tasks import _claims_alive, _enqueue

    stop = threading.Event()
    handed: list[int] = []

    def dispatcher() -> None:
        celery_app.set_current()  # Celery's current app is per thread
        try:
            while not stop.is_set():
                handed.append(messages_dispatch_due(enqueue=_enqueue, claims_alive=_claims_alive))
                stop.wait(0.5)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        _wait_all_sent(ids, timeout=120)
    finally:
        stop.set()
        for t in threads:
            t.join()
    elapsed = time.monotonic() - started
    _wait_sink(sink, 1000, timeout=5)
    time.sleep(0.5)
    assert sink.count() == 1000, sink.duplicates()
    assert set(sink.ids) == _expected_ids(ids)
    assert OutboxMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == 1000
    print(f"\n1000 messages, 3 dispatchers, 1 worker x2: {elapsed:.1f}s")


def test_sigkill_mid_batch_loses_nothing_and_duplicates_at_most_what_was_in_flight(
    worker_factory, smtp, world, tmp_path
):
    sink, _ = smtp
    ids = _due_confirmations(600, **world)
    worker = worker_factory(beat=True)
    worker.start()
    _wait_sink(sink, 150, timeout=60)
    worker.kill()
    killed_at = sink.count()
    assert killed_at < 600, "the worker finished before it could be killed"
    time.sleep(0.5)
    worker.start()
    _wait_all_sent(ids, timeout=90)
    _wait_sink(sink, 600, timeout=5)
    time.sleep(0.5)

    assert set(sink.ids) == _expected_ids(ids)  # nothing lost
    duplicates = sink.duplicates()
    # In flight at the kill: at most one message per pool process (concurrency 2) was between
    # the SMTP server's 250 and its commit.
    assert sum(n - 1 for n in duplicates.values()) <= 2
    log = (tmp_path / "worker.log").read_text()
    for message_id in duplicates:
        pk = int(re.search(r"outbox-(\d+)@", message_id).group(1))
        assert OutboxMessage.objects.get(pk=pk).reclaims >= 1
        assert re.search(rf"outbox message {pk}\b.*possible duplicate", log), message_id
    print(f"\nkilled after {killed_at} sent; duplicates: {duplicates or 'none'}")


def test_flushing_redis_mid_run_still_sends_everything_within_two_intervals_once(
    worker_factory, smtp, world, redis_url
):
    sink, _ = smtp
    ids = _due_confirmations(300, **world)
    worker_factory(beat=True).start()
    _wait_sink(sink, 60, timeout=60)
    redis.Redis.from_url(redis_url).flushdb()
    flushed_at = time.monotonic()
    in_flight = OutboxMessage.objects.filter(pk__in=ids).exclude(status=Status.SENT).count()
    assert in_flight > 0, "everything was sent before the flush"
    _wait_all_sent(ids, timeout=30)
    took = time.monotonic() - flushed_at
    _wait_sink(sink, 300, timeout=5)
    time.sleep(0.5)
    assert sink.count() == 300, sink.duplicates()
    assert set(sink.ids) == _expected_ids(ids)
    assert took <= 2 * INTERVAL + 1, f"took {took:.1f}s after the flush"
    print(f"\nflushed with {in_flight} unsent; all sent {took:.1f}s later")
