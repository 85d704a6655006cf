"""The app's PostgreSQL role can add to the audit trail and read it, and nothing else there.

CI runs the whole suite connected as that role (MESOCLINIC_DB_APP_ROLE; tests/support/db_role.py).
Run without it, these tests grant a throw-away role inside the test's transaction and take it on
with SET LOCAL ROLE, so the privileges checked are the same ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from tests.support.db_role import OWNER, app_role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TABLE = AuditEntry._meta.db_table
THROWAWAY = "mesoclinic_test_app"


@pytest.fixture
def role() -> str:
    """The role this test's connection acts as."""
    if app_role():
        return app_role()
    call_command("db_app_role", role=THROWAWAY, verbosity=0)  # rolled back with the test
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {THROWAWAY}")
    return THROWAWAY


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE clinical_auditentry",
        "UPDATE clinical_auditentry SET action = 'sign'",
        "DELETE FROM clinical_auditentry",
        "ALTER TABLE clinical_auditentry DISABLE TRIGGER ALL",
        "ALTER TABLE clinical_auditentry DISABLE TRIGGER audit_refuse_truncate",
        "DROP TRIGGER clinical_audit_append_only ON clinical_auditentry",
        "TRUNCATE patients_patient CASCADE",
    ],
)
def test_the_app_role_cannot_empty_change_or_unguard_the_audit_trail(role, manager_user, sql):
    entry = audit_log(actor=manager_user, patient=None, action="view", object_type="x")
    assert _current_user() == role
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).action == "view"


def test_the_app_role_adds_and_reads_entries_and_writes_other_tables(role, manager_user):
    entry = audit_log(actor=manager_user, patient=None, action="export", object_type="x")
    manager_user.first_name = "Changed"
    manager_user.save()
    assert _current_user() == role
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_app_role_holds_only_insert_and_select_on_the_audit_trail(role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p, has_table_privilege(%s, %s, p) FROM unnest(ARRAY"
            "['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES']) p",
            [role, TABLE],
        )
        held = {p for p, ok in cursor.fetchall() if ok}
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = %s", [TABLE])
        owner = cursor.fetchone()[0]
    assert held == {"SELECT", "INSERT"}
    assert owner != role


def _owner_url() -> str:
    db = connection.settings_dict
    user = OWNER.get("USER") or db["USER"]
    password = OWNER.get("PASSWORD") or db["PASSWORD"]
    auth = quote(user) + (":" + quote(password) if password else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _run_command(role: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": _owner_url()}
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_app_role", "--role", role],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_command_is_safe_to_run_again_and_refuses_the_owner():
    # Committed grants on the test database: re-running for the suite's own role changes nothing.
    role = app_role() or THROWAWAY
    first, second = _run_command(role), _run_command(role)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert f"Updated role {role}" in second.stdout
    owner = OWNER.get("USER") or connection.settings_dict["USER"]
    refused = _run_command(owner)
    assert refused.returncode != 0
    assert "must be a different one" in refused.stderr
