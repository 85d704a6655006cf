from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Not a known IANA time zone (for example Europe/London).")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OnlineBooking(models.TextChoices):
    OFF = "off", "Off"
    INSTANT = "instant", "Book at once"
    REQUEST = "request", "Request: staff approve"


class Clinic(models.Model):
    """The clinic itself: one row (pk=1), created on first use."""

    name = models.CharField(max_length=120, default="mesoclinic")
    timezone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_timezone]
    )
    address = models.TextField(max_length=500, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    # Clinical staff and managers always need a second factor; the front desk only if this is on.
    front_desk_second_factor = models.BooleanField(
        "Front desk must use two-factor authentication", default=False
    )
    # How long clinical records are kept after the patient's last treatment before an erasure
    # request can remove them: 8 years for adult records (NHS England Records Management Code
    # of Practice 2021, "adult health records not covered elsewhere"; GMC guidance points to it).
    record_retention_years = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Years clinical records are kept after the last treatment (UK adult: 8).",
    )
    online_booking = models.CharField(
        "Online booking",
        max_length=8,
        choices=OnlineBooking.choices,
        default=OnlineBooking.OFF,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="clinic_singleton"),
            models.CheckConstraint(
                condition=models.Q(record_retention_years__gte=1, record_retention_years__lte=100),
                name="clinic_retention_years_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class OpeningHours(models.Model):
    """One opening interval on a weekday, in the clinic's local wall time; no row = closed."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="opening_hours_order",
            ),
            models.UniqueConstraint(fields=["weekday"], name="opening_hours_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Room(models.Model):
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "Room 1" and "room 1" are one room to the desk: unique whatever the case.
            models.UniqueConstraint(
                Lower("name"),
                name="room_name_ci_unique",
                violation_error_message="There is already a room with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
