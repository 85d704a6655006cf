"""The clinic's record retention period (years after the last treatment; default 8).

On SQLite, adding a column with a default and a CHECK constraint rebuilds the table, and the
rebuild drops the calendar-version triggers of 0005 on treatments_clinic; they are created
again after the change (and after its reversal). PostgreSQL alters the table in place.
"""

import django.core.validators
from django.db import migrations, models

from ._calendar_triggers import sqlite_put_back


def sqlite_calendar_triggers(apps, schema_editor):
    sqlite_put_back(schema_editor, "treatments_clinic")


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_second_factor_and_password_change"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, sqlite_calendar_triggers),
        migrations.AddField(
            model_name="clinic",
            name="record_retention_years",
            field=models.PositiveSmallIntegerField(
                default=8,
                help_text="Years clinical records are kept after the last treatment (UK adult: 8).",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(100),
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="clinic",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("record_retention_years__gte", 1), ("record_retention_years__lte", 100)
                ),
                name="clinic_retention_years_range",
            ),
        ),
        migrations.RunPython(sqlite_calendar_triggers, migrations.RunPython.noop),
    ]
