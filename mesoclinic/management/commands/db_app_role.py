"""Create or update the app's least-privilege PostgreSQL role. Run as the tables' owner.

    DATABASE_URL=<owner's URL> manage.py db_app_role --role mesoclinic_app

The role logs in, owns nothing, and may read and write the app's tables, except the audit trail,
where it may only INSERT and SELECT: without ownership it can neither TRUNCATE it nor ALTER it
(so no DISABLE TRIGGER), and the append-only triggers stop anything else. The password, if any,
is read from $MESOCLINIC_DB_APP_PASSWORD (never from the command line, which `ps` shows). Run it
again after every `migrate`: it re-grants from scratch, so it is safe to repeat.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from mesoclinic.audit.models import AuditEntry

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
PASSWORD_ENV = "MESOCLINIC_DB_APP_PASSWORD"  # noqa: S105 (the variable, not a secret)
# Django's record of applied migrations: the app reads it, only `migrate` (as owner) writes it.
READ_ONLY = {"django_migrations"}
APPEND_ONLY = {AuditEntry._meta.db_table}


class Command(BaseCommand):
    help = "Create or update the app's PostgreSQL role: no ownership, INSERT/SELECT on the audit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="role name, e.g. mesoclinic_app")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, role: str, database: str, **options: Any) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role is for PostgreSQL (set DATABASE_URL to the owner's).")
        if not ROLE_NAME.fullmatch(role):
            raise CommandError("The role name must be lower-case letters, digits and _.")
        password = os.environ.get(PASSWORD_ENV, "")
        quoted = connection.ops.quote_name(role)
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema(), current_database()")
            owner, schema, dbname = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"“{role}” is the role running this command (the owner). The app's role "
                    "must be a different one."
                )
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found and found[0]:
                raise CommandError(f"“{role}” is a superuser; choose another role name.")
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "WHERE r.rolname = %s",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"“{role}” owns tables; the app's role must own nothing.")
            verb = "ALTER" if found else "CREATE"
            cursor.execute(
                f"{verb} ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS"
            )
            if password:
                cursor.execute(f"ALTER ROLE {quoted} PASSWORD %s", [password])
            q_schema = connection.ops.quote_name(schema)
            cursor.execute(
                f"GRANT CONNECT ON DATABASE {connection.ops.quote_name(dbname)} TO {quoted}"
            )
            cursor.execute(f"GRANT USAGE ON SCHEMA {q_schema} TO {quoted}")
            # Start from nothing so that a grant from an earlier run (or by hand) cannot linger.
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q_schema} FROM {quoted}")
            cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q_schema} FROM {quoted}")
            tables = sorted(connection.introspection.django_table_names(only_existing=True))
            existing = set(connection.introspection.table_names(cursor))
            for table in [*tables, *sorted(READ_ONLY & existing)]:
                if table in READ_ONLY:
                    privileges = "SELECT"
                elif table in APPEND_ONLY:
                    privileges = "SELECT, INSERT"
                else:
                    privileges = "SELECT, INSERT, UPDATE, DELETE"
                cursor.execute(
                    f"GRANT {privileges} ON {connection.ops.quote_name(table)} TO {quoted}"
                )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q_schema} TO {quoted}")
        self.stdout.write(
            f"{'Updated' if found else 'Created'} role {role}: privileges on {len(tables)} tables, "
            f"INSERT/SELECT only on {', '.join(sorted(APPEND_ONLY))}; owner stays {owner}."
        )
