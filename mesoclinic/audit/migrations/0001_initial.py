"""The audit trail moves here from the clinical app so every layer can write it.

State only: the table `clinical_auditentry` (with its rows, its index and its append-only trigger)
stays exactly as the clinical migrations left it; this migration and clinical 0008 only tell
Django which app owns the model now.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clinical", "0007_audit_ip_note_actions"),
        ("patients", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
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
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("view", "Viewed"),
                                    ("create", "Created"),
                                    ("update", "Changed"),
                                    ("sign", "Signed"),
                                    ("addendum", "Added an addendum"),
                                    ("withdraw", "Withdrew"),
                                    ("download", "Opened file"),
                                    ("refused", "Refused by a safety rule"),
                                    ("login", "Signed in"),
                                    ("login_failed", "Failed sign-in"),
                                    ("lockout", "Locked out"),
                                    ("unlock", "Unlocked a sign-in lock"),
                                    ("logout", "Signed out"),
                                    ("password_change", "Changed a password"),
                                    ("password_reset", "Reset a password"),
                                    ("mfa_enrol", "Enrolled a second factor"),
                                    ("mfa_reset", "Reset a second factor"),
                                    ("staff_change", "Changed staff, role or qualification"),
                                    ("export", "Exported data"),
                                    ("erasure", "Erased or anonymised"),
                                    ("acknowledge", "Acknowledged"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("object_type", models.CharField(max_length=40)),
                        ("object_id", models.BigIntegerField(null=True)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("note", models.CharField(blank=True, default="", max_length=40)),
                        (
                            "actor",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="patients.patient",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "audit entries",
                        "db_table": "clinical_auditentry",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["patient", "-at"], name="audit_patient_at")
                        ],
                    },
                ),
            ],
        ),
    ]
