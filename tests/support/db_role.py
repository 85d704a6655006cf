"""Run the test suite connected as the app's least-privilege PostgreSQL role, as production does.

pytest-django creates the test database and migrates it as the owner (DATABASE_URL's user). Then,
when MESOCLINIC_DB_APP_ROLE is set, `db_app_role` grants that role its privileges on the test
database and every connection opened afterwards (the test thread, live-server and worker threads,
the Celery worker the integration test starts) logs in as the role.

One thing the app must never do, tests need: a transactional test ends by emptying every table,
the audit trail included, with TRUNCATE. That flush (with or without the role) runs on a separate
connection as the owner,
with the audit table's TRUNCATE trigger switched off inside the flush's own transaction (ALTER
TABLE takes an exclusive lock, so no other session ever sees the trigger off).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.postgresql.operations import DatabaseOperations

from mesoclinic.audit.models import AuditEntry

ROLE_ENV = "MESOCLINIC_DB_APP_ROLE"
TRUNCATE_TRIGGER = "audit_refuse_truncate"


# The owner's login while the suite runs as the app's role (for tests that need the owner).
OWNER: dict[str, str] = {}


def app_role() -> str:
    return os.environ.get(ROLE_ENV, "")


def _owner_flush(owner: dict[str, str]) -> Callable[[DatabaseOperations, list[str]], None]:
    table = AuditEntry._meta.db_table

    def execute_sql_flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        params = self.connection.get_connection_params()
        params.update(user=owner["USER"], password=owner["PASSWORD"])
        raw = self.connection.get_new_connection(params)
        try:
            with raw, raw.cursor() as cursor:  # one transaction, committed on leaving
                # A connection the test left idle in a transaction would hold its locks and
                # make TRUNCATE wait for ever: fail loudly instead.
                cursor.execute("SET LOCAL lock_timeout = '60s'")
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {TRUNCATE_TRIGGER}')
                for sql in sql_list:
                    cursor.execute(sql)
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {TRUNCATE_TRIGGER}')
        finally:
            raw.close()

    return execute_sql_flush


def _set_login(alias: str, user: str, password: str) -> None:
    connections[alias].close()
    for settings_dict in (settings.DATABASES[alias], connections[alias].settings_dict):
        settings_dict["USER"], settings_dict["PASSWORD"] = user, password


@contextmanager
def connected_as_app_role(alias: str = "default") -> Iterator[None]:
    """Flush as the owner; with a role set, grant it on the migrated test database and log in as
    it until the end."""
    if connections[alias].vendor != "postgresql":
        yield
        return
    role = app_role()
    db = connections[alias].settings_dict
    owner = {"USER": db["USER"], "PASSWORD": db["PASSWORD"]}
    original_flush = DatabaseOperations.execute_sql_flush
    # A deliberate patch for the test run (restored below); the stubs see a method.
    DatabaseOperations.execute_sql_flush = _owner_flush(owner)  # type: ignore[method-assign,assignment]
    if role:
        call_command("db_app_role", role=role, database=alias, verbosity=0)
        OWNER.update(owner)
        _set_login(alias, role, os.environ.get("MESOCLINIC_DB_APP_PASSWORD", ""))
    try:
        yield
    finally:
        DatabaseOperations.execute_sql_flush = original_flush  # type: ignore[method-assign]
        if role:  # back to the owner, who drops the test database
            _set_login(alias, owner["USER"], owner["PASSWORD"])
            OWNER.clear()
