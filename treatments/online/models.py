"""A patient's online booking request: stored before anything is booked, acted on only once the
patient clicks the signed link emailed to the address they gave (proof of the address)."""

from __future__ import annotations

from django.db import models


class BookingRequest(models.Model):
    class Status(models.TextChoices):
        AWAITING_EMAIL = "awaiting_email", "Waiting for the email link"
        BOOKED = "booked", "Booked"
        REQUESTED = "requested", "Waiting for the desk"
        APPROVED = "approved", "Approved and booked"
        DECLINED = "declined", "Declined"
        # The desk never decided and the requested start passed: closed by the periodic tick,
        # the patient told (`online_requests_lapse`).
        EXPIRED = "expired", "Not decided in time"
        TAKEN = "taken", "Slot taken before confirmation"
        REFUSED = "refused", "Refused (please call)"

    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    # None: "anyone" (the first free practitioner at confirmation time).
    practitioner = models.ForeignKey(
        "treatments.StaffProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    email = models.EmailField(max_length=254)
    date_of_birth = models.DateField()
    is_new = models.BooleanField(default=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    # A new patient's opt-ins, ticked (never by default) on the booking page and recorded as
    # consents, source "online booking", when the link is clicked: the click proves the address.
    email_reminders_consent = models.BooleanField(default=False)
    marketing_consent = models.BooleanField(default=False)
    # The existing patient matched by email + date of birth (None for a new or unknown one).
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        "treatments.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAITING_EMAIL)
    # A new patient who looks like someone already registered: the desk checks, nothing merged.
    duplicate_note = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="online_request_status")]

    def __str__(self) -> str:
        return f"Online request {self.pk} ({self.status})"
