"""The table printed at the end of a run, and the two goals."""

from __future__ import annotations

import argparse
from typing import Any

WEEK_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.5


def _ratio(tp: dict[str, Any], key: str = "week") -> float:
    return tp[key]["rps"] / tp["bare"]["rps"] if tp["bare"]["rps"] else 0.0


def _cpu(figures: dict[str, Any]) -> str:
    return f"{figures['app_cpu_ms']:.1f} + {figures['db_cpu_ms']:.1f}"


def _cpu_ratio(tp: dict[str, Any], key: str = "week") -> float:
    bare = tp["bare"]["app_cpu_ms"] + tp["bare"]["db_cpu_ms"]
    view = tp[key]["app_cpu_ms"] + tp[key]["db_cpu_ms"]
    return bare / view if view else 0.0


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
        f"{'sessions':>9}  {'view':<5} {'bare req/s':>10} {'view req/s':>10} {'ratio':>5}  "
        f"{'bare CPU ms/req':>15} {'view CPU ms/req':>15} {'ratio by CPU':>12}  "
        f"{'errors':>6}  {'load avg':>8}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        tp = result["throughput"]
        if tp.get("error"):
            print(f"{result['sessions']:>9,}  ERROR: {tp['error']}")
            continue
        bare = tp["bare"]
        # "week": the busiest practitioner's week; "day": every practitioner's day side by side.
        for key in ("week", "day"):
            if key not in tp:
                continue
            view = tp[key]
            print(
                f"{result['sessions']:>9,}  {key:<5} {bare['rps']:>10.0f} {view['rps']:>10.0f} "
                f"{_ratio(tp, key):>5.2f}  {_cpu(bare):>15} {_cpu(view):>15} "
                f"{_cpu_ratio(tp, key):>12.2f}  "
                f"{bare['errors'] + view['errors']:>6}  {tp['loadavg_before']:>8.2f}"
            )
    print(
        "CPU ms/req = gunicorn workers + their PostgreSQL backends, per request; "
        "ratio by CPU = bare CPU / week CPU,\nthe throughput ratio when the server has the "
        "cores to itself."
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
        if tp.get("error") or not tp["bare"]["rps"] or key not in tp:
            continue
        ratio = _ratio(tp, key)
        verdict = "met" if ratio >= THROUGHPUT_GOAL else "MISSED"
        print(
            f"goal 2, cached {key} view >= {THROUGHPUT_GOAL:.0%} of the bare view's req/s at "
            f"{largest['sessions']:,} sessions: {ratio:.0%} measured, "
            f"{_cpu_ratio(tp, key):.0%} by CPU per request -> {verdict}"
        )
    for result in results:
        for row in result.get("explain", []):
            print(f"\nEXPLAIN ANALYZE, slowest query of {row['name']} at {result['sessions']:,}:")
            print(row["sql"])
            print(row["plan"])
