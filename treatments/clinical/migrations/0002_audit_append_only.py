"""PostgreSQL refuses UPDATE and DELETE on the audit trail, whatever the code path.

The model and its queryset refuse first with a clear error; this trigger is the backstop for raw
SQL and future code. SQLite (development) relies on the model alone.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION clinical_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'clinical_auditentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinical_audit_append_only
    BEFORE UPDATE OR DELETE ON clinical_auditentry
    FOR EACH ROW EXECUTE FUNCTION clinical_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS clinical_audit_append_only ON clinical_auditentry;
DROP FUNCTION IF EXISTS clinical_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
