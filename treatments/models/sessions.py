from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from .clinic import Room
from .staff import StaffProfile


class SessionType(models.Model):
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(help_text="Usually 30 to 60 minutes.")
    buffer_minutes = models.PositiveSmallIntegerField(
        default=15,
        help_text="Time blocked after the session to clean and reset the room.",
    )
    # Superficial techniques may be done by an aesthetic therapist; deeper work needs a
    # medical practitioner (seed: "deeper work needs a medical practitioner").
    medical_only = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    # Patients may pick this type on the public booking page (treatments.online).
    bookable_online = models.BooleanField("Bookable online", default=False)
    # Only a consultation type should allow this: a new patient is seen first (issue 11).
    new_patients_online = models.BooleanField(
        "New patients may book online (consultation types only)", default=False
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="session_type_name_ci_unique",
                violation_error_message="There is already a session type with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=30, duration_minutes__lte=60),
                name="session_type_duration_30_60",
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=120),
                name="session_type_buffer_max",
            ),
            models.CheckConstraint(
                condition=models.Q(new_patients_online=False) | models.Q(bookable_online=True),
                name="session_type_new_patients_need_online",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class Session(models.Model):
    """One booked mesotherapy session.

    The slot it holds is [starts_at, blocked_until): the session plus its buffer. PostgreSQL's
    exclusion constraints (migration 0002) forbid two active sessions overlapping for one
    practitioner or one room; the booking service checks first, under row locks, so staff see a
    message rather than an error page.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        ARRIVED = "arrived", "Arrived"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    # Statuses that hold their slot. Cancelled and no-show free it.
    ACTIVE = (Status.BOOKED, Status.ARRIVED, Status.COMPLETED)

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="sessions"
    )
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="sessions"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)

    arrived_at = models.DateTimeField(null=True, blank=True)
    # When the session actually ended (recorded at completion); aftercare is keyed to it.
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    notes = models.CharField(max_length=500, blank=True, help_text="Front-desk note, not clinical.")
    # Set when the desk completed the session, after confirming, while it had no signed clinical
    # record: the practitioner's today list shows it until the record is signed.
    record_flagged_at = models.DateTimeField(null=True, blank=True)

    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at"))
                & models.Q(ends_at__lte=models.F("blocked_until")),
                name="session_times_order",
            ),
        ]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="session_practitioner_start"),
            models.Index(fields=["room", "starts_at"], name="session_room_start"),
            models.Index(fields=["patient", "starts_at"], name="session_patient_start"),
            models.Index(fields=["starts_at"], name="session_start"),
        ]

    def __str__(self) -> str:
        return f"{self.session_type} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
