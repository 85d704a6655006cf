"""Benchmark the front desk's week view and patient search at 1k and 100k sessions.

    .venv/bin/python bench/week_view.py [--sizes 1000,100000] [--requests 200] [--seconds 10]

For each size it creates a fresh PostgreSQL database (mesoclinic_bench_<size>, on the server in
BENCH_DATABASE_SERVER or DATABASE_URL, default postgres://postgres@127.0.0.1:5432), migrates and
seeds it (bench/seed.py), then measures, in a child process of its own:

1. server time in-process: django.test.Client, logged in as a front-desk user, timing the whole
   request/response of the week view of the busiest practitioner in the busiest week, and of
   patient search by name prefix, full name, phone and date of birth (median, p95 of N requests
   after a warm-up; query count and SQL time of one request);
2. throughput under gunicorn (sync workers, on 127.0.0.1 at a free port): requests per second of
   the week view, authenticated by a session cookie, next to a bare Django view (/bench/bare/,
   same middleware, no database work of its own), each for a bounded time, by `wrk` when it is
   installed and a small multi-process Python client otherwise.

The databases are dropped at the end unless --keep is given. Nothing leaves the loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.weekview.databases import (  # noqa: E402
    DEFAULT_SERVER,
    label,
    recreate_database,
    server_url,
)
from bench.weekview.report import print_report  # noqa: E402
from bench.weekview.server_time import child  # noqa: E402


def parent(args: argparse.Namespace) -> int:
    server = server_url(args)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results: list[dict[str, Any]] = []
    for size in sizes:
        name = f"{args.db_prefix}_{label(size)}"
        print(f"\n== {size:,} sessions: database {name}", flush=True)
        recreate_database(server, name)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = Path(handle.name)
        env = dict(os.environ)
        env["DATABASE_URL"] = f"{server}/{name}"
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
        env.pop("TEST_DATABASE_NAME", None)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(size)]
        command += ["--out", str(out), *_passthrough(args)]
        try:
            code = subprocess.call(command, env=env, cwd=ROOT)
            if code != 0:
                print(f"   child for {size:,} sessions failed with exit code {code}")
                continue
            results.append(json.loads(out.read_text()))
        finally:
            out.unlink(missing_ok=True)
            if not args.keep:
                recreate_database(server, name, drop_only=True)
    if not results:
        return 1
    print_report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        print(f"\nraw figures written to {args.json}")
    return 0


def _passthrough(args: argparse.Namespace) -> list[str]:
    out = [
        "--requests",
        str(args.requests),
        "--seconds",
        str(args.seconds),
        "--workers",
        str(args.workers),
        "--connections",
        str(args.connections),
        "--practitioners",
        str(args.practitioners),
    ]
    if args.patients is not None:
        out += ["--patients", str(args.patients)]
    if args.python_client:
        out.append("--python-client")
    if args.explain:
        out.append("--explain")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Week view and patient search: server time at 1k/100k sessions, and "
        "gunicorn throughput next to a bare view."
    )
    parser.add_argument("--sizes", default="1000,100000", help="sessions per run, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="timed in-process requests")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per gunicorn target")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=8, help="concurrent load connections")
    parser.add_argument("--practitioners", type=int, default=10)
    parser.add_argument("--patients", type=int, default=None, help="default: sessions / 5")
    parser.add_argument(
        "--server", default=None, help=f"PostgreSQL server, default {DEFAULT_SERVER}"
    )
    parser.add_argument("--db-prefix", default="mesoclinic_bench")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slowest queries")
    parser.add_argument("--json", default=None, help="also write the raw figures to this file")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
