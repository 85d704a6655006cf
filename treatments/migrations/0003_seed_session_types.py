"""Seed a fresh clinic: the clinic row, the usual session types and opening hours.

Only what is absent is created, so a clinic that already set these up keeps its own values.
Durations follow the seed article ("30 to 60 minutes by area"); superficial scalp work may be
done by an aesthetic therapist, the rest needs a medical practitioner.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations

SESSION_TYPES = [
    # name, duration, buffer, medical_only
    ("Face", 45, 15, True),
    ("Scalp", 30, 10, False),
    ("Body", 60, 15, True),
    ("Face, neck and décolletage", 60, 15, True),
]

# Monday=0 ... Saturday=5; Sunday closed.
OPENING_HOURS = {day: (dt.time(9), dt.time(19)) for day in range(5)} | {
    5: (dt.time(9), dt.time(17))
}


def seed(apps, schema_editor):
    Clinic = apps.get_model("treatments", "Clinic")
    SessionType = apps.get_model("treatments", "SessionType")
    OpeningHours = apps.get_model("treatments", "OpeningHours")

    Clinic.objects.get_or_create(pk=1, defaults={"timezone": settings.CLINIC_DEFAULT_TIMEZONE})
    for name, duration, buffer, medical_only in SESSION_TYPES:
        SessionType.objects.get_or_create(
            name=name,
            defaults={
                "duration_minutes": duration,
                "buffer_minutes": buffer,
                "medical_only": medical_only,
            },
        )
    if not OpeningHours.objects.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(weekday=day, opens=opens, closes=closes)
            for day, (opens, closes) in OPENING_HOURS.items()
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_no_double_booking_and_roles")]

    # Reversing leaves the rows: they may have been edited or booked against since.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
