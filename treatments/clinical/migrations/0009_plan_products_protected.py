"""Plan products get an explicit through model whose product FK is PROTECT.

The table is the one Django created for the implicit many-to-many (same name, same columns,
same unique pair), so only the migration state changes; no SQL runs.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0008_auditentry_moves_to_audit_app"),
        ("products", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ConsultationPlanProduct",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "consultation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="clinical.consultation",
                            ),
                        ),
                        (
                            "product",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="products.product",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "clinical_consultation_plan_products",
                        "unique_together": {("consultation", "product")},
                    },
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="plan_products",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="+",
                        through="clinical.ConsultationPlanProduct",
                        to="products.product",
                    ),
                ),
            ],
        ),
    ]
