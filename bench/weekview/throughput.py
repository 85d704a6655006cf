"""Throughput under gunicorn: requests per second of the week view next to a bare view, and the
CPU each request costs (gunicorn's workers and their PostgreSQL backends)."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
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
from pathlib import Path
from typing import Any

from . import ROOT

BARE = "/bench/bare/"
# Issue 8's yardstick: the same text behind the login check (bench/urls_bench.py).
BARE_LOGIN = "/bench/bare-login/"


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


def measure_throughput(
    client, views: list[dict[str, str]], args: argparse.Namespace
) -> dict[str, Any]:
    """Requests per second and CPU per request of the bare view and of each view (by key)."""
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
            for view in views:
                status, body = _get(port, view["path"], cookie)
                if status != 200 or b"calendar" not in body.lower():
                    return {"error": f"{view['key']} view under gunicorn answered HTTP {status}"}
            result: dict[str, Any] = {
                "tool": tool,
                "port": port,
                "loadavg_before": os.getloadavg()[0],
            }
            targets = (("bare", BARE), ("bare_login", BARE_LOGIN))
            for key, path in (*targets, *((v["key"], v["path"]) for v in views)):
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
