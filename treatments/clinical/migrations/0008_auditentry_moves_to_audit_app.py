"""AuditEntry now belongs to the `audit` app (mesoclinic/audit). State only: the table, its rows
and its trigger stay; see audit 0001."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0007_audit_ip_note_actions"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
        ),
    ]
