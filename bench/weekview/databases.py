"""The PostgreSQL server the bench uses, and a fresh database per size."""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def server_url(args: argparse.Namespace) -> str:
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


def recreate_database(server: str, name: str, *, drop_only: bool = False) -> None:
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


def label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)
