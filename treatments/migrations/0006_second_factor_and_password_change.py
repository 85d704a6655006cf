"""Sign-in settings: the clinic can require a second factor of the front desk; a staff member
must change a password a manager set.

SQLite adds a column by rebuilding the table, which drops its triggers: the calendar-version
triggers of 0005 on the two tables are put back after the change (and after undoing it).
PostgreSQL keeps them (ALTER TABLE ADD COLUMN).
"""

from django.db import migrations, models

TABLES = ["treatments_clinic", "treatments_staffprofile"]


def restore_sqlite_calendar_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    bump = "UPDATE treatments_calendarversion SET version = random() WHERE id = 1;"
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            name = f"calendar_bump_{table}_{event.lower()}"
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {bump} END"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0005_calendar_version"),
    ]

    operations = [
        # Undoing this migration runs the operations backwards: this one last.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_calendar_triggers),
        migrations.AddField(
            model_name="clinic",
            name="front_desk_second_factor",
            field=models.BooleanField(
                default=False, verbose_name="Front desk must use two-factor authentication"
            ),
        ),
        migrations.AddField(
            model_name="staffprofile",
            name="must_change_password",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(restore_sqlite_calendar_triggers, migrations.RunPython.noop),
    ]
