"""The patient's own cancellations through the email link, for the desk (a notice on Today until
acknowledged) and the calendar (a "cancelled by the patient" mark on the freed slot).

The calendar shows these rows, so, like messaging 0003 for confirmations, a change to the table
changes the calendar version (treatments 0005's functions). SQLite drops a table's triggers when
it rebuilds the table: a later migration that changes this table must put them back.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "messaging_patientcancellation"
EVENTS = "INSERT OR UPDATE OR DELETE"


def watch(apps, schema_editor):
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


def unwatch(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in ("calendar_dirty", "calendar_bump", "calendar_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
    elif vendor == "sqlite":
        for event in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS calendar_bump_{TABLE}_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_online_received"),
        ("treatments", "0012_online_booking_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientCancellation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("cancelled_at", models.DateTimeField()),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="patient_cancellation",
                        to="treatments.session",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("acknowledged_at__isnull", True)),
                        fields=["-cancelled_at"],
                        name="patient_cancel_unseen",
                    )
                ],
            },
        ),
        migrations.RunPython(watch, unwatch),
    ]
