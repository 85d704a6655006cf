"""The public booking page's free-slot computation for a week: 10 practitioners, "anyone".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh, migrated db> \
        .venv/bin/python bench/online_slots.py --sessions 100000

Seeds with bench/seed.py (a fresh database), then times `free_slots` for the seven days of the
busy week (one call per day, as the page does), repeated; prints the median week in ms (wall
clock, and the process's CPU time, steadier on a shared machine). Also times the same week read
in one call (`free_slots_by_day`, what "nearest free slots" uses), for comparison.

With --reuse (a database already seeded, e.g. by `bench/week_view.py --keep`), --week picks the
Monday (default: this week).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.seed import seed  # noqa: E402  (sets Django up)
from treatments.models import Session, SessionType  # noqa: E402
from treatments.online.selectors import free_slots, free_slots_by_day  # noqa: E402
from treatments.selectors import clinic_get, staff_bookable  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="the database is already seeded")
    parser.add_argument("--week", default=None, help="with --reuse: a day of the week to time")
    args = parser.parse_args()
    zone = clinic_get().zone
    if args.reuse:
        today = dt.date.fromisoformat(args.week) if args.week else dt.datetime.now(zone).date()
        monday = today - dt.timedelta(days=today.weekday())
        sessions, staff = Session.objects.count(), staff_bookable().count()
    else:
        seeded = seed(sessions=args.sessions)
        monday, sessions = seeded.busy_week_monday, seeded.sessions
        staff = len(seeded.practitioner_ids)
    face = SessionType.objects.get(name="Face")

    def by_day() -> int:
        return sum(
            len(free_slots(session_type=face, day=monday + dt.timedelta(d), zone=zone))
            for d in range(7)
        )

    def at_once() -> int:
        found = free_slots_by_day(session_type=face, first_day=monday, days=7, zone=zone)
        return sum(len(slots) for slots in found.values())

    for label, run in (("7 calls, one per day (the page)", by_day), ("one call", at_once)):
        for _ in range(3):
            run()
        timings, cpu = [], []
        offered = 0
        for _ in range(args.runs):
            began, began_cpu = time.perf_counter(), time.process_time()
            offered = run()
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        print(
            f"{sessions} sessions, {staff} practitioners, week of {monday}: free slots for a "
            f"week ({offered} starts), {label}: median {statistics.median(timings):.1f} ms "
            f"(CPU {statistics.median(cpu):.1f} ms), max {max(timings):.1f} ms over "
            f"{args.runs} runs"
        )


if __name__ == "__main__":
    main()
