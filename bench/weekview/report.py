"""The table printed at the end of a run, and the two goals."""

from __future__ import annotations

import argparse
from typing import Any

WEEK_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.5


# Issue 8 compares the cached views with "a login-required view that returns a short text with
# no query of its own, under the same middleware": bare_login. The public bare view (no login
# check) is printed too, as the floor.
YARDSTICK = "bare_login"


def _ratio(tp: dict[str, Any], key: str = "week", bare: str = YARDSTICK) -> float:
    return tp[key]["rps"] / tp[bare]["rps"] if tp[bare]["rps"] else 0.0


def _cpu(figures: dict[str, Any]) -> str:
    return f"{figures['app_cpu_ms']:.2f} + {figures['db_cpu_ms']:.2f}"


def _cpu_ratio(tp: dict[str, Any], key: str = "week", bare: str = YARDSTICK) -> float:
    base = tp[bare]["app_cpu_ms"] + tp[bare]["db_cpu_ms"]
    view = tp[key]["app_cpu_ms"] + tp[key]["db_cpu_ms"]
    return base / view if view else 0.0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    env = results[0]["environment"]
    print("\n" + "=" * 100)
    print(
        f"mesoclinic bench: {env['cpus']} CPUs ({env['cpu']}), Python {env['python']}, "
        f"Django {env['django']}, {env['postgres']}, gunicorn {env['gunicorn']}"
    )
    print(
        f"in-process: django.test.Client, {args.requests} timed requests per row after "
        f"warm-up; load: {results[0]['throughput'].get('tool', '-')}, "
        f"{args.seconds:g} s per target, gunicorn {args.workers} sync workers"
    )
    print("=" * 100)
    header = (
        f"{'sessions':>9} {'patients':>8}  {'endpoint':<36} {'median ms':>9} {'p95 ms':>7} "
        f"{'CPU ms':>6} {'queries':>7} {'SQL ms':>6} {'rows':>5} {'KB':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for row in result["server_time"]:
            if row.get("error"):
                print(
                    f"{result['sessions']:>9,} {result['patients']:>8,}  {row['name']:<36} "
                    f"{'ERROR: ' + row['error']}"
                )
                continue
            print(
                f"{result['sessions']:>9,} {result['patients']:>8,}  {row['name']:<36} "
                f"{row['median_ms']:>9.1f} {row['p95_ms']:>7.1f} {row['cpu_ms']:>6.1f} "
                f"{row['queries']:>7} "
                f"{row['sql_ms']:>6.1f} {row.get('items', '-')!s:>5} {row['bytes'] / 1024:>6.1f}"
            )
    print()
    header = (
        f"{'sessions':>9}  {'view':<5} {'against':<11} {'bare req/s':>10} {'view req/s':>10} "
        f"{'ratio':>5}  {'bare CPU ms/req':>15} {'view CPU ms/req':>15} {'ratio by CPU':>12}  "
        f"{'errors':>6}  {'load avg':>8}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        tp = result["throughput"]
        if tp.get("error"):
            print(f"{result['sessions']:>9,}  ERROR: {tp['error']}")
            continue
        # "week": the busiest practitioner's week; "day": every practitioner's day side by side.
        for key in ("week", "day"):
            if key not in tp:
                continue
            view = tp[key]
            for against in ("bare_login", "bare"):
                if against not in tp:
                    continue
                bare = tp[against]
                print(
                    f"{result['sessions']:>9,}  {key:<5} {against:<11} {bare['rps']:>10.0f} "
                    f"{view['rps']:>10.0f} {_ratio(tp, key, against):>5.2f}  {_cpu(bare):>15} "
                    f"{_cpu(view):>15} {_cpu_ratio(tp, key, against):>12.2f}  "
                    f"{bare['errors'] + view['errors']:>6}  {tp['loadavg_before']:>8.2f}"
                )
    print(
        "CPU ms/req = gunicorn workers + their PostgreSQL backends, per request; "
        "ratio by CPU = bare CPU / view CPU,\nthe throughput ratio when the server has the "
        "cores to itself. bare_login: the bare text behind the login check (issue 8's "
        "yardstick);\nbare: the same text with no login check."
    )
    print()
    largest = max(results, key=lambda r: r["sessions"])
    for row in largest["server_time"]:
        if row["key"] not in ("week", "week_uncached", "day", "day_uncached"):
            continue
        if row.get("error"):
            continue
        verdict = "met" if row["median_ms"] < WEEK_GOAL_MS else "MISSED"
        print(
            f"goal 1, {row['name']} median < {WEEK_GOAL_MS:.0f} ms at {largest['sessions']:,} "
            f"sessions: {row['median_ms']:.1f} ms -> {verdict}"
        )
    engine = largest.get("engine")
    if engine:
        verdict = "met" if engine["median_ms"] < WEEK_GOAL_MS else "MISSED"
        print(
            f"goal 3, availability engine (week x {engine['practitioners']} practitioners) "
            f"median < {WEEK_GOAL_MS:.0f} ms at {largest['sessions']:,} sessions: "
            f"{engine['median_ms']:.1f} ms, {engine['queries']} queries -> {verdict}"
        )
    tp = largest["throughput"]
    for key in ("week", "day"):
        if tp.get("error") or key not in tp or not tp.get(YARDSTICK, {}).get("rps"):
            continue
        ratio = _ratio(tp, key)
        verdict = "met" if ratio >= THROUGHPUT_GOAL else "MISSED"
        print(
            f"goal 2, cached {key} view >= {THROUGHPUT_GOAL:.0%} of the login-required bare "
            f"view's req/s at {largest['sessions']:,} sessions: {ratio:.0%} measured, "
            f"{_cpu_ratio(tp, key):.0%} by CPU per request -> {verdict} (against the public "
            f"bare view: {_ratio(tp, key, 'bare'):.0%}, {_cpu_ratio(tp, key, 'bare'):.0%} by CPU)"
        )
    for result in results:
        for row in result.get("explain", []):
            print(f"\nEXPLAIN ANALYZE, slowest query of {row['name']} at {result['sessions']:,}:")
            print(row["sql"])
            print(row["plan"])
