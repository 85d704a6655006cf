"""Protocol names unique whatever their case ("Scalp, six sessions" and "scalp, six sessions"
are one protocol to a practitioner). Existing names that differ only in case are renamed first
("... (2)")."""

import django.db.models.functions.text
from django.db import migrations, models

from treatments.migrations._dedupe import rename_case_duplicates


def rename_duplicates(apps, schema_editor):
    rename_case_duplicates(apps.get_model("courses", "Protocol"), 120)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0004_plain_help_texts"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="protocol",
            name="name",
            field=models.CharField(max_length=120),
        ),
        migrations.AddConstraint(
            model_name="protocol",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="protocol_name_ci_unique",
                violation_error_message="A protocol with this name exists already.",
            ),
        ),
    ]
