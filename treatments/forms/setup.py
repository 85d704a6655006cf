"""Forms for the clinic set-up screens: parsing and field checks only (required, length, NUL
bytes, formats, choices); the rules live in treatments.services.setup and .staff, which trust
these checks and do not repeat them. The hours and registration checks in `clean()` mirror
service rules so that every offending row or field is flagged at once, not one per submit."""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import cache
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from mesoclinic.access import Role

from ..models import OnlineBooking, StaffProfile, WorkingException
from ..models.clinic import Weekday
from ..services.setup import BUFFER_MAX, DURATION_MAX, DURATION_MIN, REGISTERED, Hours


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def _time_field(label: str, required: bool = False) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )


class SetupForm(forms.Form):
    """Crispy renders fields only; templates own the <form> tag and buttons."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the templates own the <form> and its token


class ClinicForm(SetupForm):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        help_text="Every time on screen and in patients' emails is in this zone.",
        error_messages={
            "invalid_choice": "“%(value)s” is not a known time zone. Choose one from the list."
        },
    )
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(max_length=254, required=False)
    front_desk_second_factor = forms.BooleanField(
        label="Front desk must use two-factor authentication",
        required=False,
        help_text="Practitioners, therapists and managers always do. Front-desk staff may set it "
        "up themselves; tick this to require it of them too.",
    )
    online_booking = forms.ChoiceField(
        label="Online booking",
        choices=OnlineBooking.choices,
        required=False,  # left out: unchanged
        help_text="“Book at once” books when the patient confirms by email; “Request” waits "
        "for the desk to approve.",
    )


class WeeklyHoursForm(SetupForm):
    """Seven rows: each weekday is either off (closed / not working) or has a start and end."""

    off_label = "Closed"

    def __init__(self, *args: Any, rows: Any = (), **kwargs: Any) -> None:
        kwargs.setdefault("initial", self._initial(rows))
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[f"off_{day.value}"] = forms.BooleanField(
                label=self.off_label, required=False
            )
            self.fields[f"starts_{day.value}"] = _time_field("From")
            self.fields[f"ends_{day.value}"] = _time_field("To")

    def _initial(self, rows: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {f"off_{day}": True for day in range(7)}
        for row in rows:
            starts, ends = self.row_times(row)
            initial[f"off_{row.weekday}"] = False
            initial[f"starts_{row.weekday}"] = starts
            initial[f"ends_{row.weekday}"] = ends
        return initial

    @staticmethod
    def row_times(row: Any) -> tuple[time, time]:
        return row.opens, row.closes

    def days(self) -> list[dict[str, Any]]:
        return [
            {
                "label": day.label,
                "off": self[f"off_{day.value}"],
                "starts": self[f"starts_{day.value}"],
                "ends": self[f"ends_{day.value}"],
            }
            for day in Weekday
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        hours: Hours = {}
        for day in Weekday:
            if data.get(f"off_{day.value}"):
                hours[day.value] = None
                continue
            starts, ends = data.get(f"starts_{day.value}"), data.get(f"ends_{day.value}")
            if f"starts_{day.value}" in self.errors or f"ends_{day.value}" in self.errors:
                continue
            if starts is None or ends is None:
                self.add_error(
                    f"starts_{day.value}",
                    f"Give both times, or tick “{self.off_label}”.",
                )
            elif starts >= ends:
                self.add_error(f"starts_{day.value}", "The start must be before the end.")
            else:
                hours[day.value] = (starts, ends)
        data["hours"] = hours
        return data


class OpeningHoursForm(WeeklyHoursForm):
    off_label = "Closed"


class WorkingHoursForm(WeeklyHoursForm):
    off_label = "Not working"

    @staticmethod
    def row_times(row: Any) -> tuple[time, time]:
        return row.starts, row.ends


class RoomForm(SetupForm):
    name = forms.CharField(max_length=80)
    active = forms.BooleanField(
        label="In use", required=False, initial=True, help_text="Rooms out of use cannot be booked."
    )


class SessionTypeForm(SetupForm):
    name = forms.CharField(max_length=80)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=DURATION_MIN,
        max_value=DURATION_MAX,
        help_text=f"{DURATION_MIN} to {DURATION_MAX} minutes.",
    )
    buffer_minutes = forms.IntegerField(
        label="Buffer after (minutes)",
        min_value=0,
        max_value=BUFFER_MAX,
        initial=15,
        help_text="Time kept free after the session to clean and reset the room.",
    )
    medical_only = forms.BooleanField(
        label="Needs a medical practitioner",
        required=False,
        initial=True,
        help_text="Untick only for superficial work an aesthetic therapist may do.",
    )
    active = forms.BooleanField(
        label="Offered", required=False, initial=True, help_text="Inactive types cannot be booked."
    )
    bookable_online = forms.BooleanField(
        label="Bookable online",
        required=False,
        help_text="Patients may choose this type on the public booking page.",
    )
    new_patients_online = forms.BooleanField(
        label="New patients may book online",
        required=False,
        help_text="Tick only for a consultation type: new patients are seen first.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            "name",
            Row(Column("duration_minutes"), Column("buffer_minutes")),
            "medical_only",
            "active",
            "bookable_online",
            "new_patients_online",
        )


class StaffForm(SetupForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254, required=False)
    role = forms.ChoiceField(
        choices=[(role.value, role.value) for role in Role],
        help_text="What they can see and do in the app.",
    )
    qualification = forms.ChoiceField(
        choices=StaffProfile.Qualification.choices,
        help_text="Decides which sessions they may perform.",
    )
    registration_body = forms.CharField(
        max_length=80, required=False, help_text="For example GMC, NMC or GPhC."
    )
    registration_number = forms.CharField(max_length=40, required=False)
    bookable = forms.BooleanField(label="Appears in the calendar and can be booked", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            *self.account_fields(),
            Row(Column("first_name"), Column("last_name")),
            "email",
            Row(Column("role"), Column("qualification")),
            Row(Column("registration_body"), Column("registration_number")),
            "bookable",
        )

    def account_fields(self) -> list[Any]:
        return []

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("qualification") in REGISTERED:
            for name in ("registration_body", "registration_number"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Required for doctors, nurses and prescribers.")
        return data


class StaffCreateForm(StaffForm):
    username = forms.CharField(
        max_length=150,
        help_text="What they type to log in: letters, digits and @ . + - _ only.",
        validators=[UnicodeUsernameValidator()],
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password. They can change it later.",
    )

    def account_fields(self) -> list[Any]:
        return [Row(Column("username"), Column("password"))]


class StaffEditForm(StaffForm):
    # Named like the create form's field, so the service's password message (field "password")
    # shows beside it rather than above the form.
    password = forms.CharField(
        label="New password",
        max_length=128,
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep their current password.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout.append("password")


class WorkingExceptionForm(SetupForm):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    kind = forms.ChoiceField(label="Type", choices=WorkingException.Kind.choices)
    starts = _time_field("From")
    ends = _time_field("To")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts"].help_text = "Leave both times empty for a whole day's leave."
        self.helper.layout = Layout(
            Row(Column("date"), Column("kind")),
            Row(Column("starts"), Column("ends")),
            "note",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts, ends = data.get("starts"), data.get("ends")
        if "starts" in self.errors or "ends" in self.errors:
            return data
        if (starts is None) != (ends is None):
            self.add_error("starts", "Give both times, or neither for a whole day.")
        elif data.get("kind") == WorkingException.Kind.EXTRA and starts is None:
            self.add_error("starts", "Extra hours need a start and an end time.")
        elif starts is not None and starts >= ends:
            self.add_error("starts", "The start must be before the end.")
        return data
