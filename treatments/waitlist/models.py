"""The waiting list: patients who want a session sooner than the calendar offers, and the freed
slots offered to them.

An entry says what the patient waits for (session type, practitioner or anyone, a date range,
times of day; a course step, whose window bounds the dates). When bookable time is freed, a
`Release` records it and the first entries (in the order they joined) that fit it are each sent
an `Offer` of one concrete slot: a batch. The first to accept books it through the booking
service; when a batch has all expired or been declined, the next batch is offered.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class WaitlistSettings(models.Model):
    """The clinic's waiting-list settings: one row (pk=1), created with the defaults."""

    batch_size = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        verbose_name="Patients offered a freed slot at once",
    )
    offer_minutes = models.PositiveSmallIntegerField(
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(7 * 24 * 60)],
        verbose_name="An offer stays open for (minutes)",
    )
    # No offer for a slot starting sooner than this, and no offer open past the slot's start
    # minus this: the patient needs time to come, the clinic time to prepare.
    notice_minutes = models.PositiveSmallIntegerField(
        default=180,
        validators=[MaxValueValidator(7 * 24 * 60)],
        verbose_name="Notice before the slot (minutes)",
    )

    class Meta:
        verbose_name = "waiting-list settings"
        verbose_name_plural = "waiting-list settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="waitlist_settings_singleton"),
            models.CheckConstraint(
                condition=models.Q(batch_size__gte=1), name="waitlist_settings_batch"
            ),
            models.CheckConstraint(
                condition=models.Q(offer_minutes__gte=10), name="waitlist_settings_offer"
            ),
        ]

    def __str__(self) -> str:
        return "Waiting-list settings"


# Local start times: morning before 12:00, afternoon 12:00-17:00, evening from 17:00.
NOON = time(12)
FIVE_PM = time(17)


class Entry(models.Model):
    class Status(models.TextChoices):
        AWAITING_EMAIL = "awaiting_email", "Waiting for the patient's email link"
        ACTIVE = "active", "Waiting"
        BOOKED = "booked", "Booked"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    OPEN = (Status.ACTIVE,)

    # Empty only for a request from the booking page: the patient is matched by email and date
    # of birth when the emailed link is clicked (and stays empty if nobody matches).
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
    )
    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    # None: anyone allowed the session type.
    practitioner = models.ForeignKey(
        "treatments.StaffProfile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    earliest = models.DateField()
    latest = models.DateField()
    mornings = models.BooleanField(default=True)
    afternoons = models.BooleanField(default=True)
    evenings = models.BooleanField(default=True)
    # A course patient waits for an earlier slot inside this step's window.
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    step_number = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added_online = models.BooleanField(default=False)
    # The booking page's request: the address and birth date typed, until the link is clicked.
    email = models.EmailField(max_length=254, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    verify_expires_at = models.DateTimeField(null=True, blank=True)

    joined_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    session = models.ForeignKey(
        "treatments.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        verbose_name = "waiting-list entry"
        verbose_name_plural = "waiting-list entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earliest__lte=models.F("latest")),
                name="waitlist_entry_dates",
            ),
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False) | models.Q(added_online=True),
                name="waitlist_entry_has_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(mornings=True)
                | models.Q(afternoons=True)
                | models.Q(evenings=True),
                name="waitlist_entry_some_time",
            ),
            models.CheckConstraint(
                condition=models.Q(course__isnull=True, step_number__isnull=True)
                | models.Q(course__isnull=False, step_number__gte=1),
                name="waitlist_entry_course_step",
            ),
        ]
        indexes = [models.Index(fields=["status", "joined_at"], name="waitlist_entry_status")]

    def __str__(self) -> str:
        return f"Waiting-list entry {self.pk} ({self.status})"

    @property
    def times_display(self) -> str:
        times = [
            name
            for name, wanted in (
                ("mornings", self.mornings),
                ("afternoons", self.afternoons),
                ("evenings", self.evenings),
            )
            if wanted
        ]
        return "any time" if len(times) == 3 else ", ".join(times)

    def fits_time_of_day(self, local_start: time) -> bool:
        if local_start < NOON:
            return self.mornings
        if local_start < FIVE_PM:
            return self.afternoons
        return self.evenings


class Release(models.Model):
    """Bookable time that was freed, and the batches of offers made for it."""

    practitioner = models.ForeignKey(
        "treatments.StaffProfile", on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(
        "treatments.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()
    batches = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_because = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(closed_at__isnull=True),
                name="waitlist_release_open",
            )
        ]

    def __str__(self) -> str:
        return f"Freed time {self.pk}"


class Offer(models.Model):
    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted and booked"
        TAKEN = "taken", "Taken by someone else"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="offers")
    # None: a re-offer shown on the "just taken" page rather than sent for freed time.
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="offers"
    )
    batch = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField()
    practitioner = models.ForeignKey(
        "treatments.StaffProfile", on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey("treatments.Room", on_delete=models.CASCADE, related_name="+")
    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OFFERED)
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    session = models.ForeignKey(
        "treatments.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at"))
                & models.Q(expires_at__lte=models.F("starts_at")),
                name="waitlist_offer_expires_before_start",
            ),
            # An entry holds at most one open offer per slot start.
            models.UniqueConstraint(
                fields=["entry", "starts_at"],
                condition=models.Q(status="offered"),
                name="waitlist_offer_once_per_entry_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="offered"),
                name="waitlist_offer_open",
            )
        ]

    def __str__(self) -> str:
        return f"Waiting-list offer {self.pk} ({self.status})"
