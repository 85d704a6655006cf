"""Seed the usual protocols. Numbers follow the seed articles ("3 to 6 sessions a few weeks
apart", "maintenance sessions every few months"); a manager edits them on the protocols page.

Only absent protocols are created, so a clinic's own edits survive re-running migrations.
"""

from django.db import migrations

PROTOCOLS = [
    # name, indication, sessions, min days, max days, maintenance days, default session type
    ("Skin rejuvenation", "skin", 4, 14, 21, 90, "Face"),
    ("Hair loss (scalp)", "hair", 6, 7, 14, 120, "Scalp"),
    ("Localised fat/cellulite (body)", "fat", 6, 7, 10, 90, "Body"),
]


def seed(apps, schema_editor):
    Protocol = apps.get_model("courses", "Protocol")
    SessionType = apps.get_model("treatments", "SessionType")
    for name, indication, count, low, high, maintenance, type_name in PROTOCOLS:
        Protocol.objects.get_or_create(
            name=name,
            defaults={
                "indication": indication,
                "sessions_count": count,
                "interval_min_days": low,
                "interval_max_days": high,
                "maintenance_interval_days": maintenance,
                "default_session_type": SessionType.objects.filter(name=type_name).first(),
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
        ("treatments", "0003_seed_session_types"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
