import uuid

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    for name in ("ClinicalPhoto", "ConsentSignature"):
        model = apps.get_model("clinical", name)
        for pk in model.objects.filter(key__isnull=True).values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("clinical", "0005_records_consultations_photos_reactions")]

    operations = [
        migrations.AddField(
            model_name="clinicalphoto",
            name="key",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="consentsignature",
            name="key",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="clinicalphoto",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AlterField(
            model_name="consentsignature",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
