"""The audit trail moved from the clinical app to `audit` by a state-only migration: a database
migrated as main had it (clinical 0007) keeps its rows and its append-only trigger, and gains
the TRUNCATE trigger. Runs `migrate` in a child process against a throw-away database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from tests.support.db_role import OWNER

pytestmark = pytest.mark.postgres


def _owner() -> dict[str, str]:
    db = connection.settings_dict
    return {
        "user": OWNER.get("USER") or db["USER"],
        "password": OWNER.get("PASSWORD") or db["PASSWORD"] or "",
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
    }


def _url(owner: dict[str, str], name: str) -> str:
    auth = quote(owner["user"]) + (":" + quote(owner["password"]) if owner["password"] else "")
    return f"postgres://{auth}@{owner['host']}:{owner['port']}/{name}"


def _migrate(url: str, *target: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("TEST_DATABASE_NAME", None)
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", *target, "-v0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _sql(owner: dict[str, str], dbname: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(dbname=dbname, **owner)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def test_a_database_migrated_as_main_keeps_its_audit_rows_and_triggers():
    owner = _owner()
    name = f"mc_move_{uuid.uuid4().hex[:10]}"
    _sql(owner, "postgres", f'CREATE DATABASE "{name}"')
    try:
        _migrate(_url(owner, name), "clinical", "0007")
        _sql(
            owner,
            name,
            "INSERT INTO clinical_auditentry (at, action, object_type, object_id, note) "
            "VALUES (now(), 'view', 'patient', 1, ''), (now(), 'sign', 'consultation', 2, '')",
        )
        _migrate(_url(owner, name))
        rows = _sql(owner, name, "SELECT action FROM clinical_auditentry ORDER BY id")
        assert rows == [("view",), ("sign",)]
        triggers = _sql(
            owner,
            name,
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'clinical_auditentry'::regclass "
            "AND NOT tgisinternal AND tgenabled = 'O' ORDER BY tgname",
        )
        assert triggers == [("audit_refuse_truncate",), ("clinical_audit_append_only",)]
        for refused in ("DELETE FROM clinical_auditentry", "TRUNCATE clinical_auditentry"):
            with pytest.raises(psycopg2.Error, match="append-only"):
                _sql(owner, name, refused)
        applied = _sql(
            owner, name, "SELECT app, name FROM django_migrations WHERE app = 'audit' ORDER BY id"
        )
        assert [n for _, n in applied] == ["0001_initial", "0002_refuse_truncate"]
    finally:
        _sql(owner, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
