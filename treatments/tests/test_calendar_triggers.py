"""The calendar-version triggers are all there after every migration has run, on SQLite (whose
table rebuilds drop them: treatments/migrations/_calendar_triggers.py puts them back) and on
PostgreSQL; and the helper puts back exactly what 0005 made."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from treatments.migrations._calendar_triggers import sqlite_put_back

pytestmark = pytest.mark.django_db

WATCHED = importlib.import_module("treatments.migrations.0005_calendar_version").WATCHED


def _triggers() -> dict[str, str]:
    """Trigger name (per table) -> its definition."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT tbl_name || '.' || name, sql FROM sqlite_master WHERE type = 'trigger'"
            )
        else:
            cursor.execute(
                "SELECT tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal"
            )
        return dict(cursor.fetchall())


def _expected(table: str) -> set[str]:
    if connection.vendor == "sqlite":
        return {f"{table}.calendar_bump_{table}_{e}" for e in ("insert", "update", "delete")}
    return {f"{table}.{n}" for n in ("calendar_dirty", "calendar_bump", "calendar_truncate")}


def test_every_table_the_calendar_shows_has_its_triggers_after_all_migrations():
    found = _triggers()
    for app_label, model_name, columns in WATCHED:
        table = apps.get_model(app_label, model_name)._meta.db_table
        missing = _expected(table) - set(found)
        assert not missing, f"{table} lost its calendar triggers: {sorted(missing)}"
        if columns and connection.vendor == "sqlite":
            # Only the columns the calendar shows: a login (last_login) changes nothing.
            update = found[f"{table}.calendar_bump_{table}_update"]
            assert f"UPDATE OF {', '.join(columns)}" in update


class _Editor:
    """What the helper uses of a migration's schema editor (SQLite's own refuses to open
    inside the test's transaction)."""

    connection = connection

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_sqlite_trigger_helper_recreates_what_0005_made_and_nothing_on_postgresql():
    before = _triggers()
    editor = _Editor()
    if connection.vendor == "sqlite":
        editor.execute("DROP TRIGGER calendar_bump_patients_patient_update")
        editor.execute("DROP TRIGGER calendar_bump_treatments_clinic_insert")
        assert len(_triggers()) == len(before) - 2
    sqlite_put_back(editor, "patients_patient", ("UPDATE OF first_name, last_name",))
    sqlite_put_back(editor, "treatments_clinic")
    assert _triggers() == before
