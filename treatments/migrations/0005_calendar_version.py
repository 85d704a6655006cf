"""A one-row calendar version that database triggers change with anything the grid shows.

The calendar caches its rendered grid under this version (treatments/calendar/cache.py). Bumps
are triggers, not calls in services, so that no writer (admin, shell, a new service, raw SQL)
can leave a stale grid behind.

PostgreSQL: a statement-level trigger marks the transaction "dirty" (a transaction-local
setting: readers inside it skip the cache), and a deferred constraint trigger bumps the version
once, at commit. Taking the version row's lock only at commit keeps it out of the booking
service's lock order (staff, then room rows), so it cannot deadlock with it and is held for
microseconds. The value comes from a sequence, which never hands out a number twice, even
after a rollback. SQLite: row triggers set a random version at once (one writer at a time).
"""

import secrets

from django.db import migrations, models

# (app label, model, columns whose UPDATE changes the grid; None = any column)
WATCHED = [
    ("treatments", "Session", None),
    ("treatments", "WorkingHours", None),
    ("treatments", "WorkingException", None),
    ("treatments", "OpeningHours", None),
    ("treatments", "Room", None),
    ("treatments", "StaffProfile", None),
    ("treatments", "SessionType", None),
    ("treatments", "Clinic", None),
    # Logins write last_login: only the columns the grid shows (names, active).
    ("auth", "User", ("first_name", "last_name", "username", "is_active")),
    ("patients", "Patient", ("first_name", "last_name")),
]

PG_FUNCTIONS = """
CREATE SEQUENCE IF NOT EXISTS treatments_calendar_version_seq;
CREATE OR REPLACE FUNCTION treatments_calendar_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('mesoclinic.calendar_dirty', 'on', true);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION treatments_calendar_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('mesoclinic.calendar_bumped', true) IS DISTINCT FROM 'on' THEN
        UPDATE treatments_calendarversion
        SET version = nextval('treatments_calendar_version_seq') WHERE id = 1;
        PERFORM set_config('mesoclinic.calendar_bumped', 'on', true);
    END IF;
    RETURN NULL;
END $$;
"""


def _events(columns):
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    return f"INSERT OR {update} OR DELETE"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    version = apps.get_model("treatments", "CalendarVersion")
    version.objects.create(id=1, epoch=secrets.randbits(62), version=0)
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTIONS)
    for app_label, model_name, columns in WATCHED:
        table = apps.get_model(app_label, model_name)._meta.db_table
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER calendar_dirty AFTER {_events(columns)} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION treatments_calendar_dirty()"
            )
            schema_editor.execute(
                f"CREATE CONSTRAINT TRIGGER calendar_bump AFTER {_events(columns)} ON {table} "
                "DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION treatments_calendar_bump()"
            )
            # TRUNCATE fires no row triggers; it cannot be deferred either, so bump at once.
            schema_editor.execute(
                f"CREATE TRIGGER calendar_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION treatments_calendar_bump()"
            )
        elif vendor == "sqlite":
            bump = "UPDATE treatments_calendarversion SET version = random() WHERE id = 1;"
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            for event in ("INSERT", update, "DELETE"):
                name = f"calendar_bump_{table}_{event.split()[0].lower()}"
                schema_editor.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump} END"
                )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for app_label, model_name, _columns in WATCHED:
        table = apps.get_model(app_label, model_name)._meta.db_table
        if vendor == "postgresql":
            for name in ("calendar_dirty", "calendar_bump", "calendar_truncate"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS calendar_bump_{table}_{event}")
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS treatments_calendar_bump(); "
            "DROP FUNCTION IF EXISTS treatments_calendar_dirty(); "
            "DROP SEQUENCE IF EXISTS treatments_calendar_version_seq"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0004_session_slot_length"),
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="CalendarVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("epoch", models.BigIntegerField()),
                ("version", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="calendar_version_one_row"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
