"""Put back the calendar-version triggers on patients_patient on SQLite.

patients.0003 adds a column with a default, which SQLite can only do by rebuilding the table, and
the rebuild drops the triggers 0005 created on it (the calendar cache would then miss a renamed
patient). PostgreSQL alters the table in place and keeps its triggers.
"""

from django.db import migrations

from ._calendar_triggers import sqlite_put_back


def sqlite_patient_triggers(apps, schema_editor):
    # Only the names: the calendar shows no other column of a patient (0005's WATCHED).
    events = ("INSERT", "UPDATE OF first_name, last_name", "DELETE")
    sqlite_put_back(schema_editor, "patients_patient", events)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0008_session_no_overlap_patient"),
        ("patients", "0003_patient_booking_hold"),
    ]

    operations = [migrations.RunPython(sqlite_patient_triggers, sqlite_patient_triggers)]
