"""A held slot [starts_at, blocked_until) lasts at most one day.

Session types cap it at 3 hours (60 minutes + a 120-minute buffer); this makes the bound a
database guarantee, which the calendar and conflict queries rely on to use the (starts_at)
indexes ("starts after the range start minus one day"). PostgreSQL only, like 0002.
"""

from django.db import migrations


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE treatments_session ADD CONSTRAINT session_slot_at_most_one_day "
            "CHECK (blocked_until <= starts_at + interval '1 day')"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE treatments_session DROP CONSTRAINT IF EXISTS session_slot_at_most_one_day"
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_seed_session_types")]

    operations = [migrations.RunPython(add, drop)]
