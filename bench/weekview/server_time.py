"""The child process: one size, one database (DATABASE_URL), Django set up; seed, then time
the week view and patient search in-process (django.test.Client)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from . import ROOT
from .throughput import BARE, BARE_LOGIN, measure_throughput


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/week_view.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - started

    from bench import seed as seeding

    seeded = seeding.seed(
        sessions=args.child, patients=args.patients, practitioners=args.practitioners
    )
    print(
        f"   migrated in {migrate_s:.1f} s; seeded {seeded.sessions:,} sessions "
        f"({seeded.first_day} to {seeded.last_day}), {seeded.patients:,} patients in "
        f"{seeded.seconds:.1f} s",
        flush=True,
    )
    targets = _targets(seeded)
    client = _front_desk_client(seeded.front_desk_user_id)
    server_time = [_time_in_process(client, target, args.requests) for target in targets]
    for row in server_time:
        if row.get("error"):
            print(f"   {row['name']}: ERROR {row['error']}", flush=True)
        else:
            print(
                f"   {row['name']}: median {row['median_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms,"
                f" {row['queries']} queries ({row['sql_ms']:.1f} ms SQL)",
                flush=True,
            )
    engine = _time_engine(seeded, args.requests)
    print(
        f"   availability engine, week x {engine['practitioners']} practitioners: median "
        f"{engine['median_ms']:.1f} ms, p95 {engine['p95_ms']:.1f} ms, {engine['queries']} "
        f"queries, {engine['offers']:,} starts offered",
        flush=True,
    )
    explain = _explain(server_time) if args.explain else []
    # Under gunicorn: the cached week view and the cached all-practitioner day view.
    loaded = [t for t in targets if t["key"] in ("week", "day")]
    throughput = (
        measure_throughput(client, loaded, args) if loaded else {"error": "no calendar view"}
    )
    result = {
        "sessions": seeded.sessions,
        "patients": seeded.patients,
        "practitioners": len(seeded.practitioner_ids),
        "seed_seconds": round(seeded.seconds, 2),
        "migrate_seconds": round(migrate_s, 2),
        "busy_practitioner_id": seeded.busy_practitioner_id,
        "busy_week_monday": seeded.busy_week_monday.isoformat(),
        "server_time": server_time,
        "engine": engine,
        "throughput": throughput,
        "explain": explain,
        "environment": _environment(),
    }
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    return 0


def _time_engine(seeded, requests: int) -> dict[str, Any]:
    """treatments.availability.offers_between for the busiest week, every bookable
    practitioner and room, the first session type, from the Monday before (nothing past)."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from treatments.availability import offers_between
    from treatments.selectors import (
        clinic_zone,
        rooms_active,
        session_types_active,
        staff_bookable,
    )

    zone = clinic_zone()
    session_type = session_types_active().first()
    monday = seeded.busy_week_monday
    now = dt.datetime.combine(monday - dt.timedelta(days=7), dt.time(9), tzinfo=zone)

    def run() -> int:
        # Each run reads the people and rooms as the calendar page does (two more queries).
        offers = offers_between(
            session_type=session_type,
            practitioners=list(staff_bookable()),
            rooms=list(rooms_active()),
            first_day=monday,
            days=7,
            zone=zone,
            now=now,
        )
        return len(offers)

    for _ in range(5):
        run()
    timings = []
    for _ in range(max(requests, 20)):
        started = time.perf_counter()
        offered = run()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        run()
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "queries": len(captured.captured_queries),
        "offers": offered,
        "practitioners": len(list(staff_bookable())),
    }


def _targets(seeded) -> list[dict[str, str]]:
    from django.urls import NoReverseMatch, reverse

    from patients.models import Patient

    targets: list[dict[str, str]] = []
    targets.append({"key": "bare", "name": "bare view (no DB work, no template)", "path": BARE})
    targets.append({"key": "bare_login", "name": "bare view, login required", "path": BARE_LOGIN})
    week = seeded.busy_week_monday.isoformat()
    try:
        calendar = reverse("treatments:calendar")
    except NoReverseMatch:
        calendar = None
    if calendar:
        targets.append(
            {
                "key": "week",
                "name": "week view, busiest practitioner",
                "path": f"{calendar}?view=week&date={week}&practitioner="
                f"{seeded.busy_practitioner_id}",
            }
        )
        targets.append(
            {
                "key": "week_uncached",
                "name": "week view, grid not cached",
                "path": f"{calendar}?view=week&date={week}&practitioner="
                f"{seeded.busy_practitioner_id}",
                # The calendar caches its grid: clear the cache before each timed request to
                # measure what the first view after a change costs.
                "fresh": "1",
            }
        )
        # The day view with one column per practitioner (all 10), on the busiest day.
        day = seeded.busy_week_monday.isoformat()
        targets.append(
            {
                "key": "day",
                "name": "day view, all practitioners",
                "path": f"{calendar}?view=day&date={day}",
            }
        )
        targets.append(
            {
                "key": "day_uncached",
                "name": "day view, all, grid not cached",
                "path": f"{calendar}?view=day&date={day}",
                "fresh": "1",
            }
        )
        targets.append(
            {
                "key": "week_htmx",
                "name": "week view, htmx partial",
                "path": f"{calendar}?view=week&date={week}&practitioner="
                f"{seeded.busy_practitioner_id}",
                "htmx": "1",
            }
        )
    try:
        search = reverse("patients:patient_list")
    except NoReverseMatch:
        search = None
    if search:
        # A patient in the middle of the table, so that nothing is found by luck at the start.
        sample = Patient.objects.order_by("pk")[seeded.patients // 2]
        digits = sample.phone_digits
        queries = [
            ("search, name prefix 'smi'", "smi"),
            ("search, first + last name", f"{sample.first_name} {sample.last_name}"),
            ("search, phone (last 6 digits)", f"{digits[-6:-3]} {digits[-3:]}"),
            ("search, phone (07... national)", "0" + digits.removeprefix("+44")),
            ("search, date of birth dd/mm/yyyy", sample.date_of_birth.strftime("%d/%m/%Y")),
        ]
        for name, q in queries:
            targets.append(
                {
                    "key": "search",
                    "name": name,
                    "path": f"{search}?{urllib.parse.urlencode({'q': q})}",
                }
            )
    if len(targets) == 1:
        raise SystemExit("neither treatments:calendar nor patients:patient_list exists yet")
    return targets


def _front_desk_client(user_id: int):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    # force_login writes a real database session: the same cookie logs gunicorn's workers in.
    client.force_login(User.objects.get(pk=user_id))
    return client


def _count_items(body: bytes, key: str) -> int | None:
    # Rough but stable: session blocks in the calendar carry a link to the session page,
    # results in the patient list a link to the patient page.
    if key.startswith("bare"):
        return None
    calendar = key.startswith(("week", "day"))
    pattern = rb'href="/sessions/\d+/"' if calendar else rb'href="/patients/\d+/"'
    found = len(set(re.findall(pattern, body)))
    return found


def _time_in_process(client, target: dict[str, str], requests: int) -> dict[str, Any]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HTTP_HX_REQUEST": "true"} if target.get("htmx") else {}
    row: dict[str, Any] = {"key": target["key"], "name": target["name"], "path": target["path"]}
    response = client.get(target["path"], **headers)
    if response.status_code != 200:
        row["error"] = f"HTTP {response.status_code} for {target['path']}"
        return row
    for _ in range(10):
        client.get(target["path"], **headers)
    fresh = cache.clear if target.get("fresh") else lambda: None
    fresh()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target["path"], **headers)
    queries = captured.captured_queries
    timings, cpu = [], []
    for _ in range(requests):
        fresh()
        began, began_cpu = time.perf_counter(), time.process_time()
        client.get(target["path"], **headers)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    timings.sort()
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    row.update(
        median_ms=statistics.median(timings),
        p95_ms=timings[min(len(timings) - 1, int(len(timings) * 0.95))],
        min_ms=timings[0],
        # The Django process's own CPU (PostgreSQL's is not in it): steadier than wall time
        # on a shared machine, where other work delays the process.
        cpu_ms=statistics.median(cpu),
        queries=len(queries),
        sql_ms=sum(float(q["time"]) for q in queries) * 1000,
        slowest_sql=slowest["sql"] if slowest else "",
        slowest_sql_ms=float(slowest["time"]) * 1000 if slowest else 0.0,
        bytes=len(response.content),
        items=_count_items(response.content, target["key"]),
    )
    return row


def _explain(server_time: list[dict[str, Any]]) -> list[dict[str, str]]:
    from django.db import connection

    out = []
    for row in server_time:
        if row.get("error") or not row.get("slowest_sql", "").lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + row["slowest_sql"])
            plan = "\n".join(line for (line,) in cursor.fetchall())
        out.append({"name": row["name"], "sql": row["slowest_sql"], "plan": plan})
    return out


def _environment() -> dict[str, Any]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    try:
        from importlib.metadata import version

        gunicorn = version("gunicorn")
    except Exception:
        gunicorn = "?"
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "gunicorn": gunicorn,
    }
