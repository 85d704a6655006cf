"""Names unique whatever their case: "Room 1" and "room 1" are one room to the desk, and so for
session types; usernames too ("Nia" and "nia" would be two accounts for one person, and the
sign-in form matches the username exactly).

Existing rooms and session types whose names differ only in case are renamed first ("room 1
(2)"). Usernames are not renamed (a person signs in with theirs): if two differ only in case,
the migration stops and says which, for a manager to rename one.

On SQLite, dropping the column's own unique flag rebuilds the tables, which drops their
calendar triggers (0005): they are put back after the change and after its reversal.
"""

import django.db.models.functions.text
from django.db import migrations, models

from ._calendar_triggers import sqlite_put_back
from ._dedupe import rename_case_duplicates

TABLES = ("treatments_room", "treatments_sessiontype")


def rename_duplicates(apps, schema_editor):
    rename_case_duplicates(apps.get_model("treatments", "Room"), 80)
    rename_case_duplicates(apps.get_model("treatments", "SessionType"), 80)


def refuse_duplicate_usernames(apps, schema_editor):
    user_model = apps.get_model("auth", "User")
    by_key: dict[str, list[str]] = {}
    for username in user_model.objects.values_list("username", flat=True):
        by_key.setdefault(username.lower(), []).append(username)
    clashes = [names for names in by_key.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(names) for names in clashes)
        raise RuntimeError(
            f"Usernames that differ only in case: {listed}. Rename one of each (Clinic set-up, "
            "Staff), then migrate again."
        )


def sqlite_calendar_triggers(apps, schema_editor):
    for table in TABLES:
        sqlite_put_back(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("treatments", "0012_online_booking_settings"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.RunPython(migrations.RunPython.noop, sqlite_calendar_triggers),
        migrations.AlterField(
            model_name="room",
            name="name",
            field=models.CharField(max_length=80),
        ),
        migrations.AlterField(
            model_name="sessiontype",
            name="name",
            field=models.CharField(max_length=80),
        ),
        migrations.AddConstraint(
            model_name="room",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="room_name_ci_unique",
                violation_error_message="There is already a room with this name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="sessiontype",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="session_type_name_ci_unique",
                violation_error_message="There is already a session type with this name.",
            ),
        ),
        migrations.RunPython(sqlite_calendar_triggers, migrations.RunPython.noop),
        migrations.RunPython(refuse_duplicate_usernames, migrations.RunPython.noop),
        # auth.User belongs to Django: its unique index on lower(username) is plain SQL (the
        # same on PostgreSQL and SQLite). The staff service maps a violation to the message.
        migrations.RunSQL(
            "CREATE UNIQUE INDEX auth_user_username_ci_unique ON auth_user (lower(username))",
            "DROP INDEX auth_user_username_ci_unique",
        ),
    ]
