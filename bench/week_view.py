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
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
WEEK_GOAL_MS = 50.0
THROUGHPUT_GOAL = 0.5
BARE = "/bench/bare/"


# --------------------------------------------------------------------------------------------
# The parent: databases, child processes, the table.


def _server_url(args: argparse.Namespace) -> str:
    raw = args.server or os.environ.get("BENCH_DATABASE_SERVER") or os.environ.get("DATABASE_URL")
    if not raw:
        return DEFAULT_SERVER
    parts = urllib.parse.urlsplit(raw)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _admin_connection(server: str):
    import psycopg2

    parts = urllib.parse.urlsplit(server)
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    connection.autocommit = True
    return connection


def _recreate_database(server: str, name: str, *, drop_only: bool = False) -> None:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    connection = _admin_connection(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def _label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def parent(args: argparse.Namespace) -> int:
    server = _server_url(args)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results: list[dict[str, Any]] = []
    for size in sizes:
        name = f"{args.db_prefix}_{_label(size)}"
        print(f"\n== {size:,} sessions: database {name}", flush=True)
        _recreate_database(server, name)
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
                _recreate_database(server, name, drop_only=True)
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


def _ratio(tp: dict[str, Any]) -> float:
    return tp["week"]["rps"] / tp["bare"]["rps"] if tp["bare"]["rps"] else 0.0


def _cpu(figures: dict[str, Any]) -> str:
    return f"{figures['app_cpu_ms']:.1f} + {figures['db_cpu_ms']:.1f}"


def _cpu_ratio(tp: dict[str, Any]) -> float:
    bare = tp["bare"]["app_cpu_ms"] + tp["bare"]["db_cpu_ms"]
    week = tp["week"]["app_cpu_ms"] + tp["week"]["db_cpu_ms"]
    return bare / week if week else 0.0


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
        f"{'sessions':>9}  {'bare req/s':>10} {'week req/s':>10} {'ratio':>5}  "
        f"{'bare CPU ms/req':>15} {'week CPU ms/req':>15} {'ratio by CPU':>12}  "
        f"{'errors':>6}  {'load avg':>8}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        tp = result["throughput"]
        if tp.get("error"):
            print(f"{result['sessions']:>9,}  ERROR: {tp['error']}")
            continue
        bare, week = tp["bare"], tp["week"]
        print(
            f"{result['sessions']:>9,}  {bare['rps']:>10.0f} {week['rps']:>10.0f} "
            f"{_ratio(tp):>5.2f}  {_cpu(bare):>15} {_cpu(week):>15} {_cpu_ratio(tp):>12.2f}  "
            f"{bare['errors'] + week['errors']:>6}  {tp['loadavg_before']:>8.2f}"
        )
    print(
        "CPU ms/req = gunicorn workers + their PostgreSQL backends, per request; "
        "ratio by CPU = bare CPU / week CPU,\nthe throughput ratio when the server has the "
        "cores to itself."
    )
    print()
    largest = max(results, key=lambda r: r["sessions"])
    week_row = next(
        (r for r in largest["server_time"] if r["key"] == "week" and not r.get("error")), None
    )
    if week_row:
        verdict = "met" if week_row["median_ms"] < WEEK_GOAL_MS else "MISSED"
        print(
            f"goal 1, week view median < {WEEK_GOAL_MS:.0f} ms at {largest['sessions']:,} "
            f"sessions: {week_row['median_ms']:.1f} ms -> {verdict}"
        )
    tp = largest["throughput"]
    if not tp.get("error") and tp["bare"]["rps"]:
        ratio = _ratio(tp)
        verdict = "met" if ratio >= THROUGHPUT_GOAL else "MISSED"
        print(
            f"goal 2, week view >= {THROUGHPUT_GOAL:.0%} of the bare view's req/s at "
            f"{largest['sessions']:,} sessions: {ratio:.0%} measured, "
            f"{_cpu_ratio(tp):.0%} by CPU per request -> {verdict}"
        )
    for result in results:
        for row in result.get("explain", []):
            print(f"\nEXPLAIN ANALYZE, slowest query of {row['name']} at {result['sessions']:,}:")
            print(row["sql"])
            print(row["plan"])


# --------------------------------------------------------------------------------------------
# The child: one size, one database (DATABASE_URL), Django set up.


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
    explain = _explain(server_time) if args.explain else []
    week = next((t for t in targets if t["key"] == "week"), None)
    throughput = _throughput(client, week, args) if week else {"error": "no week view"}
    result = {
        "sessions": seeded.sessions,
        "patients": seeded.patients,
        "practitioners": len(seeded.practitioner_ids),
        "seed_seconds": round(seeded.seconds, 2),
        "migrate_seconds": round(migrate_s, 2),
        "busy_practitioner_id": seeded.busy_practitioner_id,
        "busy_week_monday": seeded.busy_week_monday.isoformat(),
        "server_time": server_time,
        "throughput": throughput,
        "explain": explain,
        "environment": _environment(),
    }
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    return 0


def _targets(seeded) -> list[dict[str, str]]:
    from django.urls import NoReverseMatch, reverse

    from patients.models import Patient

    targets: list[dict[str, str]] = []
    targets.append({"key": "bare", "name": "bare view (no DB work, no template)", "path": BARE})
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
            ("search, phone (07... national)", "0" + digits[2:]),
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
    if key == "bare":
        return None
    pattern = rb'href="/sessions/\d+/"' if key.startswith("week") else rb'href="/patients/\d+/"'
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


# --------------------------------------------------------------------------------------------
# Throughput under gunicorn.


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def _gunicorn(args: argparse.Namespace):
    port = _free_port()
    handle, log_path = tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")
    os.close(handle)
    log = Path(log_path)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "mesoclinic.wsgi:application",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "256",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings_bench")
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, BARE)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors = log.read_text().strip()
        if errors:
            print(f"   gunicorn log ({log}):\n{errors[-2000:]}", flush=True)
        else:
            log.unlink(missing_ok=True)


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            # /proc/<pid>/stat: utime and stime are fields 14 and 15, after "(comm)".
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total


def _children(parent_pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == parent_pid:
                    pids.append(int(entry.name))
    return pids


def _database_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _throughput(client, week: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    use_wrk = shutil.which("wrk") and not args.python_client
    tool = (
        f"wrk -t1 -c{args.connections}"
        if use_wrk
        else f"Python client, 2 processes x {max(1, args.connections // 2)} threads"
    )
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    try:
        with _gunicorn(args) as (port, master_pid):
            status, body = _get(port, week["path"], cookie)
            if status != 200 or b"calendar" not in body.lower():
                return {"error": f"week view under gunicorn answered HTTP {status}"}
            result: dict[str, Any] = {
                "tool": tool,
                "port": port,
                "loadavg_before": os.getloadavg()[0],
            }
            for key, path in (("bare", BARE), ("week", week["path"])):
                load = _wrk if use_wrk else _python_load
                load(port, path, cookie, 2.0, args.connections)  # warm-up
                # CPU used per request by gunicorn's workers and by their PostgreSQL backends:
                # on a machine shared with other work, req/s shows how much CPU the server was
                # given; CPU per request shows what each request costs.
                workers = [master_pid, *_children(master_pid)]
                backends = _database_backends()
                app_before, db_before = _cpu_ticks(workers), _cpu_ticks(backends)
                figures = load(port, path, cookie, args.seconds, args.connections)
                done = max(1, figures["requests"])
                figures["app_cpu_ms"] = (_cpu_ticks(workers) - app_before) * tick_ms / done
                figures["db_cpu_ms"] = (_cpu_ticks(backends) - db_before) * tick_ms / done
                result[key] = figures
                print(
                    f"   gunicorn {key}: {figures['rps']:.0f} req/s "
                    f"({figures['requests']} requests, {figures['errors']} errors), "
                    f"CPU per request {figures['app_cpu_ms']:.2f} ms app + "
                    f"{figures['db_cpu_ms']:.2f} ms PostgreSQL",
                    flush=True,
                )
            result["loadavg_after"] = os.getloadavg()[0]
            return result
    except RuntimeError as exc:
        return {"error": str(exc)}


def _wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    p50_ms = None
    if p50:
        p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return {
        "rps": rps,
        "requests": requests,
        "errors": (int(bad.group(1)) if bad else 0)
        + (int(socket_errors.group(1)) if socket_errors else 0),
        "p50_ms": p50_ms,
    }


def _load_worker(port: int, path: str, cookie: str, deadline: float, threads: int, queue) -> None:
    counts = {"requests": 0, "errors": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done = errors = 0
        mine: list[float] = []
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
                # gunicorn's sync workers close every connection; reconnect then.
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append((time.perf_counter() - began) * 1000)
            done += 1
        connection.close()
        with lock:
            counts["requests"] += done
            counts["errors"] += errors
            latencies.extend(mine)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((counts["requests"], counts["errors"], latencies))


def _python_load(
    port: int, path: str, cookie: str, seconds: float, connections: int
) -> dict[str, Any]:
    # Two processes so that the client is not held to one core by the GIL; bounded in time.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = 2
    threads = max(1, connections // processes)
    began = time.monotonic()
    deadline = began + seconds
    workers = [
        context.Process(target=_load_worker, args=(port, path, cookie, deadline, threads, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    requests = errors = 0
    latencies: list[float] = []
    for _ in workers:
        done, bad, lat = queue.get(timeout=seconds + 60)
        requests, errors = requests + done, errors + bad
        latencies.extend(lat)
    for worker in workers:
        worker.join()
    elapsed = max(seconds, time.monotonic() - began - 0.0)
    return {
        "rps": requests / elapsed,
        "requests": requests,
        "errors": errors,
        "p50_ms": statistics.median(latencies) if latencies else None,
    }


# --------------------------------------------------------------------------------------------


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
