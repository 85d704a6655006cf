"""The calendar marks sessions the patient confirmed: a confirmation given (or deleted by a
reschedule) must change the calendar version like any other change the grid shows
(treatments 0005, whose functions these triggers call).

SQLite drops a table's triggers when it rebuilds the table (adding a column): a later migration
that changes messaging_sessionconfirmation must put them back, as treatments 0006 does.
"""

from django.db import migrations

TABLE = "messaging_sessionconfirmation"
EVENTS = "INSERT OR UPDATE OR DELETE"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER calendar_dirty AFTER {EVENTS} ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION treatments_calendar_dirty()"
        )
        schema_editor.execute(
            f"CREATE CONSTRAINT TRIGGER calendar_bump AFTER {EVENTS} ON {TABLE} "
            "DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION treatments_calendar_bump()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER calendar_truncate AFTER TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION treatments_calendar_bump()"
        )
    elif vendor == "sqlite":
        bump = "UPDATE treatments_calendarversion SET version = random() WHERE id = 1;"
        for event in ("INSERT", "UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS calendar_bump_{TABLE}_{event.lower()} "
                f"AFTER {event} ON {TABLE} BEGIN {bump} END"
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in ("calendar_dirty", "calendar_bump", "calendar_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
    elif vendor == "sqlite":
        for event in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS calendar_bump_{TABLE}_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_staff_alerts_and_confirmed_start"),
        ("treatments", "0005_calendar_version"),
    ]

    operations = [migrations.RunPython(create, drop)]
