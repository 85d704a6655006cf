"""Put back the calendar-version triggers on patients_patient on SQLite.

patients.0003 adds a column with a default, which SQLite can only do by rebuilding the table, and
the rebuild drops the triggers 0005 created on it (the calendar cache would then miss a renamed
patient). PostgreSQL alters the table in place and keeps its triggers.
"""

from django.db import migrations

TABLE = "patients_patient"
BUMP = "UPDATE treatments_calendarversion SET version = random() WHERE id = 1;"
EVENTS = ("INSERT", "UPDATE OF first_name, last_name", "DELETE")


def sqlite_patient_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in EVENTS:
        name = f"calendar_bump_{TABLE}_{event.split()[0].lower()}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {TABLE} BEGIN {BUMP} END")


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0008_session_no_overlap_patient"),
        ("patients", "0003_patient_booking_hold"),
    ]

    operations = [migrations.RunPython(sqlite_patient_triggers, sqlite_patient_triggers)]
