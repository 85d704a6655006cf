from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


def phone_digits(phone: str) -> str:
    """The number in E.164 for search, duplicate checks and `tel:` links, whatever the format
    it was typed in: "07700 900123" and "+44 (7700) 900-123" -> "+447700900123". A number
    without a country code is read in the clinic's region (PHONE_REGION). What phonenumbers
    cannot read as a possible number is kept as its digits alone."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"\D", "", phone)


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    # Kept in step with `phone` by the services; indexed for search by any part of the number.
    phone_digits = models.CharField(max_length=32, blank=True, editable=False)
    address = models.TextField(max_length=500, blank=True)

    # Care messages (confirmation, preparation, reminders, aftercare) and marketing-like
    # nudges are consented to separately; the history lives in ConsentChange.
    email_reminders_consent = models.BooleanField(default=False)
    email_reminders_consent_at = models.DateTimeField(null=True, blank=True)
    marketing_consent = models.BooleanField(default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    # "Do not book: see practitioner". Set and lifted by clinical services (an absolute
    # contraindication in the latest screening, or a practitioner's decision); booking reads
    # only this flag, so the desk learns *that* a practitioner must see the patient, never why.
    booking_hold = models.BooleanField(default=False)
    booking_hold_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the patient's personal details were anonymised after an erasure request
    # (treatments.dataprotection); the row stays so anonymous sessions keep the statistics.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), name="patient_name_lower"),
            models.Index(Lower("first_name"), name="patient_first_name_lower"),
            models.Index(Lower("email"), name="patient_email_lower"),
            models.Index(fields=["phone_digits"], name="patient_phone_digits"),
            models.Index(fields=["date_of_birth"], name="patient_dob"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ConsentChange(models.Model):
    class Kind(models.TextChoices):
        EMAIL_REMINDERS = "email_reminders", "Email reminders and aftercare"
        MARKETING = "marketing", "Follow-up and maintenance nudges"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_changes")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    given = models.BooleanField()
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=32, default="front desk")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        state = "given" if self.given else "withdrawn"
        return f"{self.get_kind_display()} {state} at {self.at:%Y-%m-%d %H:%M}"
