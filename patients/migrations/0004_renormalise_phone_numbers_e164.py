"""phone_digits held digits only ("447700900123" and "07700900123" for one number); it now holds
E.164 ("+447700900123"), so that duplicates are found whatever the format typed. This re-reads
every stored `phone` the way patients.models.phone_digits does today (copied here, so that a
later change to that function does not change what this migration did)."""

import re

import phonenumbers
from django.conf import settings
from django.db import migrations


def e164(phone: str) -> str:
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, getattr(settings, "PHONE_REGION", "GB"))
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"\D", "", phone)


def renormalise(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    changed = []
    for patient in Patient.objects.exclude(phone="").only("pk", "phone", "phone_digits"):
        value = e164(patient.phone)
        if value != patient.phone_digits:
            patient.phone_digits = value
            changed.append(patient)
    Patient.objects.bulk_update(changed, ["phone_digits"], batch_size=500)


def digits_again(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    changed = []
    for patient in Patient.objects.exclude(phone="").only("pk", "phone", "phone_digits"):
        patient.phone_digits = re.sub(r"\D", "", patient.phone)
        changed.append(patient)
    Patient.objects.bulk_update(changed, ["phone_digits"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_patient_booking_hold")]

    operations = [migrations.RunPython(renormalise, digits_again)]
