"""Treatment protocols (as data) and a patient's course of sessions following one.

Seed: mesotherapy is "not a one-off": typically 3 to 6 sessions a few weeks apart, then
maintenance every few months. A protocol holds those numbers; a course copies them when it is
created, so that a manager editing a protocol does not silently change courses under way.
Proposed dates are computed (services.course_propose), never stored: moving or cancelling a
session changes the proposals for the later steps at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

SESSIONS_MIN, SESSIONS_MAX = 1, 10
INTERVAL_MAX_DAYS = 365


PROTOCOL_NAME_TAKEN = "A protocol with this name exists already."


class Protocol(models.Model):
    class Indication(models.TextChoices):
        SKIN = "skin", "Skin rejuvenation / hydration"
        HAIR = "hair", "Hair loss (scalp)"
        FAT = "fat", "Localised fat / cellulite (body)"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120)
    indication = models.CharField(max_length=16, choices=Indication.choices)
    description = models.TextField(max_length=2000, blank=True)
    sessions_count = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(SESSIONS_MIN), MaxValueValidator(SESSIONS_MAX)],
        help_text="Usually 3 to 6; 1 to 10 allowed.",
    )
    interval_min_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(INTERVAL_MAX_DAYS)],
        help_text="Earliest day after the previous session.",
    )
    interval_max_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(INTERVAL_MAX_DAYS)],
        help_text="Latest day after the previous session.",
    )
    maintenance_interval_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(INTERVAL_MAX_DAYS * 2)],
        help_text="Maintenance due this many days after the last session.",
    )
    default_session_type = models.ForeignKey(
        "treatments.SessionType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="protocol_name_ci_unique",
                violation_error_message=PROTOCOL_NAME_TAKEN,
            ),
            models.CheckConstraint(
                condition=models.Q(
                    sessions_count__gte=SESSIONS_MIN, sessions_count__lte=SESSIONS_MAX
                ),
                name="protocol_sessions_range",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_min_days__gte=1)
                & models.Q(interval_min_days__lte=models.F("interval_max_days")),
                name="protocol_interval_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def interval_display(self) -> str:
        return f"every {self.interval_min_days}–{self.interval_max_days} days"


class Course(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="courses")
    practitioner = models.ForeignKey(
        "treatments.StaffProfile", on_delete=models.PROTECT, related_name="courses"
    )
    session_type = models.ForeignKey(
        "treatments.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    # Preferred room; empty means any free active room.
    room = models.ForeignKey(
        "treatments.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshot of the protocol at creation (see module docstring).
    sessions_count = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(SESSIONS_MIN), MaxValueValidator(SESSIONS_MAX)]
    )
    interval_min_days = models.PositiveSmallIntegerField()
    interval_max_days = models.PositiveSmallIntegerField()
    maintenance_interval_days = models.PositiveSmallIntegerField()
    # The consultation whose treatment plan this course carries out (issue 3: "a course is
    # created from the consultation's plan"); a short free-text note when there is none.
    consultation = models.ForeignKey(
        "clinical.Consultation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="courses",
    )
    plan_reference = models.CharField(max_length=200, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    completed_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=500, blank=True)
    maintenance_due = models.DateField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    sessions_count__gte=SESSIONS_MIN, sessions_count__lte=SESSIONS_MAX
                ),
                name="course_sessions_range",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_min_days__gte=1)
                & models.Q(interval_min_days__lte=models.F("interval_max_days")),
                name="course_interval_order",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="course_patient_status"),
            models.Index(fields=["status", "maintenance_due"], name="course_maintenance_due"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} for {self.patient}"

    def desk_label(self, step_number: int) -> str:
        """What the front desk reads about a course session: its session type and step. Never
        the protocol, whose name ("Hair loss protocol") reveals the patient's condition."""
        return f"{self.session_type.name} course, session {step_number} of {self.sessions_count}"

    def step_window(self, previous_day: date) -> tuple[date, date]:
        """The first and last local day for the step after one held on `previous_day` (a local
        date): counting calendar days keeps "every two weeks" on the same weekday across a
        daylight-saving change."""
        return (
            previous_day + timedelta(days=self.interval_min_days),
            previous_day + timedelta(days=self.interval_max_days),
        )


class CourseStep(models.Model):
    """Step k of a course and the session that fills it (if any).

    A step whose session was cancelled or marked no-show counts as unbooked again; booking it
    replaces the link. So cancelling one session never breaks the rest of the course.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    session = models.ForeignKey(
        "treatments.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="course_steps",
    )

    class Meta:
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="course_step_unique"),
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(session__isnull=False),
                name="course_step_one_per_session",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="course_step_number"),
        ]

    def __str__(self) -> str:
        return f"Step {self.number} of {self.course}"
