from __future__ import annotations

from django.conf import settings
from django.db import models

from .clinic import Weekday


class StaffProfile(models.Model):
    """What a staff member is qualified to do; their role is their auth group."""

    class Qualification(models.TextChoices):
        DOCTOR = "doctor", "Doctor"
        NURSE = "nurse", "Nurse"
        PRESCRIBER = "prescriber", "Independent prescriber"
        AESTHETIC_THERAPIST = "therapist", "Aesthetic therapist"
        NONE = "none", "Non-clinical"

    MEDICAL = (Qualification.DOCTOR, Qualification.NURSE, Qualification.PRESCRIBER)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    qualification = models.CharField(
        max_length=16, choices=Qualification.choices, default=Qualification.NONE
    )
    registration_body = models.CharField(max_length=80, blank=True)
    registration_number = models.CharField(max_length=40, blank=True)
    # Whether the person appears in the calendar and can be booked.
    bookable = models.BooleanField(default=False)
    # Set when a manager chooses the password; the person must replace it at their next sign-in.
    must_change_password = models.BooleanField(default=False)

    class Meta:
        ordering = ["user__first_name", "user__last_name", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_medical(self) -> bool:
        return self.qualification in self.MEDICAL


class WorkingHours(models.Model):
    """A practitioner's regular weekly hours, in the clinic's local wall time."""

    staff = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "starts"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")),
                name="working_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class WorkingException(models.Model):
    """A dated change to the weekly pattern: leave (not working) or an extra working period."""

    class Kind(models.TextChoices):
        LEAVE = "leave", "Leave / not working"
        EXTRA = "extra", "Extra working hours"

    staff = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Leave with no times is the whole day; extra hours always have times.
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(starts__isnull=True, ends__isnull=True, kind="leave")
                    | models.Q(starts__lt=models.F("ends"))
                ),
                name="working_exception_times",
            ),
        ]
        indexes = [models.Index(fields=["staff", "date"], name="working_exception_staff_date")]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_kind_display()} {self.date}"
