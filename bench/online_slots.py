"""The public booking page's free-slot computation for a week: 10 practitioners, "anyone".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh, migrated db> \
        .venv/bin/python bench/online_slots.py --sessions 100000

Seeds with bench/seed.py (a fresh database), then times the free starts of the busy week in one
call (`free_slots_between`, six queries) and, for comparison, one day at a time as the page asks
(`free_slots`, seven calls); repeated; prints the medians in ms.
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
from treatments.models import Session, SessionType, StaffProfile  # noqa: E402
from treatments.online.selectors import free_slots, free_slots_between  # noqa: E402
from treatments.selectors import clinic_get  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="the database is already seeded")
    args = parser.parse_args()
    zone = clinic_get().zone
    if args.reuse:
        today = dt.datetime.now(zone).date()
        monday = today - dt.timedelta(days=today.weekday())
        sessions, staff = Session.objects.count(), StaffProfile.objects.count()
    else:
        seeded = seed(sessions=args.sessions)
        monday, sessions = seeded.busy_week_monday, seeded.sessions
        staff = len(seeded.practitioner_ids)
    face = SessionType.objects.get(name="Face")
    timings: list[float] = []
    by_day: list[float] = []
    offered = 0
    for _ in range(args.runs):
        began = time.perf_counter()
        offered = len(free_slots_between(session_type=face, first_day=monday, days=7, zone=zone))
        timings.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        by_day_offered = sum(
            len(free_slots(session_type=face, day=monday + dt.timedelta(d), zone=zone))
            for d in range(7)
        )
        by_day.append((time.perf_counter() - began) * 1000)
        assert by_day_offered == offered
    print(
        f"{sessions} sessions, {staff} practitioners: free slots for a week ({offered} starts) "
        f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms over "
        f"{args.runs} runs; the page's one day at a time: median "
        f"{statistics.median(by_day) / 7:.1f} ms a day ({statistics.median(by_day):.1f} ms "
        "for the seven)"
    )


if __name__ == "__main__":
    main()
