"""Benchmark patient email delivery: one Celery worker sends N messages to a local SMTP server.

    .venv/bin/python bench/messaging_throughput.py [--messages 1000] [--concurrency 2] [--keep]

Creates a fresh PostgreSQL database (mesoclinic_bench_messaging, on the server in
BENCH_DATABASE_SERVER or DATABASE_URL, default postgres://postgres@127.0.0.1:5432), migrates it,
and seeds N booked sessions each with a due booking confirmation (the heaviest kind: three
templates and an .ics). Starts an SMTP server on a free loopback port (aiosmtpd, accepting and
counting), one `celery -A mesoclinic worker` on the Redis in BENCH_REDIS_URL (default
redis://127.0.0.1:6379/5; only that database is flushed), then runs the dispatcher once and
times from the first claim to the N-th email accepted by the SMTP server. Goal: >= 1,000 per
minute. The database is dropped at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "mesoclinic_bench_messaging"
GOAL_PER_MINUTE = 1000
BATCH_SIZE = 50


def _server_url() -> str:
    raw = os.environ.get("BENCH_DATABASE_SERVER") or os.environ.get("DATABASE_URL")
    raw = raw or "postgres://postgres@127.0.0.1:5432"
    parts = urllib.parse.urlsplit(raw)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_server_url() + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _seed(n: int) -> list[int]:
    from tests.support.smtp import seed_due_confirmations
    from treatments.models import Clinic, Room, SessionType, StaffProfile
    from treatments.tests.factories import StaffProfileFactory, UserFactory

    Clinic.objects.update_or_create(pk=1, defaults={"name": "Bench Clinic"})
    room = Room.objects.create(name="Bench room")
    face = SessionType.objects.get_or_create(name="Bench face", defaults={"duration_minutes": 45})[
        0
    ]
    doctor = StaffProfileFactory(
        user=UserFactory(username="benchdoctor", first_name="Bench", last_name="Doctor"),
        qualification=StaffProfile.Qualification.DOCTOR,
    )
    return seed_due_confirmations(
        n, room=room, session_type=face, practitioner=doctor, name="Bench"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    database_url = f"{_server_url()}/{DB_NAME}"
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "mesoclinic.settings",
        "MESSAGING_BATCH_SIZE": str(BATCH_SIZE),
        "MESSAGING_MAX_IN_FLIGHT": "400",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis

    from tests.support.smtp import SmtpSink, smtp_server
    from treatments.messaging.dispatch import messages_dispatch_due
    from treatments.messaging.tasks import _claims_alive, _enqueue

    redis.Redis.from_url(redis_url).flushdb()
    ids = _seed(args.messages)
    sink = SmtpSink()
    smtp = smtp_server(sink)
    port = smtp.__enter__()
    env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="false")
    log = Path(tempfile.mkdtemp()) / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mesoclinic",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={args.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        from mesoclinic.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
        started = time.monotonic()
        messages_dispatch_due(enqueue=_enqueue, claims_alive=_claims_alive)
        deadline = started + 600
        while sink.count() < args.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = sink.last - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        smtp.__exit__(None, None, None)
        redis.Redis.from_url(redis_url).flushdb()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    received = sink.count()
    distinct = received - sum(n - 1 for n in sink.duplicates().values())
    rate = received / elapsed if elapsed > 0 else 0.0
    print(f"messages queued:     {len(ids)}")
    print(f"emails received:     {received} ({distinct} distinct)")
    print(f"worker:              1 x prefork concurrency {args.concurrency}, batch {BATCH_SIZE}")
    print(f"time:                {elapsed:.2f} s")
    print(f"throughput:          {rate:.1f} messages/s = {rate * 60:.0f} per minute")
    ok = received == distinct == args.messages and rate * 60 >= GOAL_PER_MINUTE
    print(f"goal >= {GOAL_PER_MINUTE}/min:     {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
