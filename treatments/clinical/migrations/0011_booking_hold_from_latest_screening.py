"""Existing patients: hold booking where the latest screening declares an absolute
contraindication to all treatment (the rule of clinical/services/holds.py, which takes over
from here). Reversing leaves the holds (the column goes with patients 0002)."""

from django.db import migrations
from django.db.models.functions import Now


def set_holds(apps, schema_editor):
    Screening = apps.get_model("clinical", "Screening")
    ScreeningAnswer = apps.get_model("clinical", "ScreeningAnswer")
    Patient = apps.get_model("patients", "Patient")
    latest: dict[int, int] = {}
    for pk, patient_id in Screening.objects.order_by("patient_id", "-taken_at", "-id").values_list(
        "pk", "patient_id"
    ):
        latest.setdefault(patient_id, pk)
    held = set(
        ScreeningAnswer.objects.filter(
            screening_id__in=latest.values(),
            answer=True,
            rule__severity="absolute",
            rule__scope="all",
        ).values_list("screening__patient_id", flat=True)
    )
    if held:
        Patient.objects.filter(pk__in=held).update(booking_hold=True, booking_hold_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0010_record_draft"),
        ("patients", "0003_patient_booking_hold"),
    ]

    operations = [migrations.RunPython(set_holds, migrations.RunPython.noop)]
