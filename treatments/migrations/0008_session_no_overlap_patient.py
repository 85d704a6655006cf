"""One patient never holds two overlapping active sessions (PostgreSQL exclusion constraint).

Like the practitioner's and room's (0002), on the half-open [starts_at, ends_at): the session
itself, without the clean-up buffer, which is the room's and practitioner's time, not the
patient's; so a patient may go from one session straight into the next. Cancelled and no-show
sessions are outside it. The booking service checks the same rule under its locks first; this
is the backstop. Should existing rows overlap, adding it fails and names them: move or cancel
one of each pair, then migrate again (nothing is changed silently).
"""

from django.db import migrations

ACTIVE = "('booked', 'arrived', 'completed')"
NAME = "session_no_overlap_patient"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE treatments_session ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f"(patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN {ACTIVE})"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE treatments_session DROP CONSTRAINT IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("treatments", "0007_clinic_record_retention_years")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
