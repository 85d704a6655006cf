"""PostgreSQL refuses TRUNCATE of the audit trail too.

Row triggers (clinical 0002) do not fire on TRUNCATE, so one statement could empty the table. A
statement-level BEFORE TRUNCATE trigger closes that; it also fires when another table's
TRUNCATE ... CASCADE reaches this one. The app's own role cannot truncate or disable triggers
at all (it does not own the table: `manage.py db_app_role`); the trigger stops the owner's
mistakes. SQLite (development) relies on the model alone.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'clinical_auditentry is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_refuse_truncate
    BEFORE TRUNCATE ON clinical_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_refuse_truncate ON clinical_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
