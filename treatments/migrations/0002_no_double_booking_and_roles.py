"""PostgreSQL exclusion constraints that make double-booking impossible, and the role groups.

A practitioner, and separately a room, may hold at most one active session at any instant,
buffers included: [starts_at, blocked_until) as a half-open range, so back-to-back is allowed.
Cancelled and no-show sessions are outside the constraint, so they free their slot.
SQLite (the embedded default) has no exclusion constraints; there the booking service's checks
under an IMMEDIATE transaction are what holds.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "('booked', 'arrived', 'completed')"
CONSTRAINTS = {
    "session_no_overlap_practitioner": "practitioner_id",
    "session_no_overlap_room": "room_id",
}

ROLES = {
    "Front desk": [],
    "Practitioner": [],
    "Aesthetic therapist": [],
    "Clinic manager": [],
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE treatments_session ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({column} WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE})"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE treatments_session DROP CONSTRAINT IF EXISTS {name}")


def add_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
        migrations.RunPython(add_roles, migrations.RunPython.noop),
    ]
