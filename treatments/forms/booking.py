"""Forms for the calendar and the booking screens: parsing and field validation only.

The booking rules (hours, qualifications, the past, a taken slot) live in
treatments.services.booking; the views put its DomainError messages on these forms.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms

from mesoclinic.errors import LocalTimeError
from patients.models import Patient

from ..clinic_time import AMBIGUOUS_RULE, combine
from ..courses.models import Course
from ..models import Room, SessionType, StaffProfile
from ..selectors import rooms_active, session_types_active, staff_bookable

SLOT_MINUTES = 15
# Dates outside this range are typing mistakes; refusing them also keeps date arithmetic
# (next week, day bounds) far from datetime's limits.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_ID = 2**31 - 1


def _check_year(day: dt.date | None) -> dt.date | None:
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise forms.ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")
    return day


class CalendarQueryForm(forms.Form):
    """The calendar's query string. Every field is optional; the view falls back to defaults."""

    view = forms.ChoiceField(choices=[("week", "Week"), ("day", "Day")], required=False)
    date = forms.DateField(required=False)
    practitioner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    room = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    by = forms.ChoiceField(
        choices=[("practitioners", "Practitioners"), ("rooms", "Rooms")], required=False
    )
    session_type = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def clean_date(self) -> dt.date | None:
        return _check_year(self.cleaned_data.get("date"))


class NextAvailableForm(forms.Form):
    """The "next available" query: a session type and, optionally, one practitioner."""

    session_type = forms.ModelChoiceField(
        queryset=SessionType.objects.none(),
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": "Choose a session type from the list."},
    )
    practitioner = forms.ModelChoiceField(
        queryset=StaffProfile.objects.none(),
        required=False,
        empty_label="Any practitioner",
        error_messages={"invalid_choice": "Choose a practitioner from the list."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["session_type"]).queryset = session_types_active()
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = staff_bookable()


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffProfile) -> str:
        return f"{obj.display_name} ({obj.get_qualification_display().lower()})"


class SessionTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SessionType) -> str:
        who = "medical practitioner only" if obj.medical_only else "therapist or practitioner"
        return f"{obj.name} · {obj.duration_minutes} min · {who}"


class WallTimeForm(forms.Form):
    """A date and a quarter-hour time read as wall-clock time in the clinic's zone."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time", "step": SLOT_MINUTES * 60}, format="%H:%M"),
        help_text=AMBIGUOUS_RULE,
    )
    practitioner = PractitionerChoiceField(
        queryset=StaffProfile.objects.none(),
        error_messages={"invalid_choice": "Choose a practitioner from the list."},
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        error_messages={"invalid_choice": "Choose a room from the list."},
    )
    # When the form was shown: a clash booked after it is "just taken", an older one is named.
    shown_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        cast(PractitionerChoiceField, self.fields["practitioner"]).queryset = staff_bookable()
        cast(forms.ModelChoiceField, self.fields["room"]).queryset = rooms_active()

    def clean_date(self) -> dt.date | None:
        return _check_year(self.cleaned_data.get("date"))

    def clean_time(self) -> dt.time | None:
        at = self.cleaned_data.get("time")
        if at is not None and (at.minute % SLOT_MINUTES or at.second or at.microsecond):
            raise forms.ValidationError(
                "Choose a time on the quarter hour (for example 10:00, 10:15, 10:30)."
            )
        return at

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        day, at = cleaned.get("date"), cleaned.get("time")
        if day is not None and at is not None:
            try:
                cleaned["starts_at"] = combine(day, at, self.zone)
            except LocalTimeError as err:
                self.add_error("time", err.message)
        return cleaned


class SessionBookForm(WallTimeForm):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Find the patient and pick them from the list.",
            "invalid_choice": "That patient was not found. Search again and pick from the list.",
        },
    )
    # The picker's search box: only the hidden `patient` id is booked; this keeps what the
    # desk typed when the form comes back with an error.
    patient_search = forms.CharField(required=False, max_length=100, label="Patient")
    session_type = SessionTypeChoiceField(
        queryset=SessionType.objects.filter(active=True),
        error_messages={"invalid_choice": "Choose a session type from the list."},
    )
    notes = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For the desk only; not a clinical note.",
    )

    # "<course id>:<step number>": count this booking as that step of the patient's course
    # (rendered by courses/_booking_step_choice.html); empty for an ordinary booking.
    course_step = forms.CharField(required=False, max_length=16)

    field_order = ["patient", "patient_search", "session_type", "practitioner", "room"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("room"):
            # A clinic with one room should not make the desk pick it every time.
            rooms = list(rooms_active()[:2])
            if len(rooms) == 1:
                self.initial["room"] = rooms[0].pk

    def clean_course_step(self) -> tuple[Course, int] | None:
        raw = self.cleaned_data.get("course_step") or ""
        if not raw:
            return None
        match = re.fullmatch(r"(\d{1,9}):(\d{1,2})", raw)
        if match is None:
            raise forms.ValidationError("Choose the course session from the list, or untick it.")
        courses = Course.objects.select_related("protocol", "session_type")
        course = courses.filter(pk=int(match[1])).first()
        if course is None:
            raise forms.ValidationError("That course was not found. Untick it or reload the page.")
        return course, int(match[2])

    def chosen_patient(self) -> Patient | None:
        """The patient to show as picked: the valid posted one, or the `?patient=` prefill."""
        if self.is_bound:
            return self.cleaned_data.get("patient") if hasattr(self, "cleaned_data") else None
        pk = str(self.initial.get("patient") or "")
        return Patient.objects.filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 10 else None


class SessionMoveForm(WallTimeForm):
    pass


class SessionDropForm(WallTimeForm):
    """Where a session was dropped on the calendar: the column's day and the row's time; the
    column's practitioner or room when the columns are people or rooms (else the session's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].required = False
        self.fields["room"].required = False


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the session is cancelled."},
        help_text="For example: patient called, unwell; practitioner on leave.",
    )


class SessionStatusForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("arrived", "Patient arrived"),
            ("completed", "Session completed"),
            ("no_show", "No-show"),
            ("undo_arrived", "Undo check-in"),
            ("undo_no_show", "Undo no-show"),
        ],
        error_messages={"invalid_choice": "That is not a status change the desk can make."},
    )
    # Set by the confirmation page (no-show; completing without a signed record).
    confirm = forms.BooleanField(required=False)


class OfferedSlotsQueryForm(forms.Form):
    """The booking form's GET prefill, read to offer the nearest free starts ("Book next")."""

    session_type = forms.ModelChoiceField(queryset=SessionType.objects.filter(active=True))
    practitioner = forms.ModelChoiceField(queryset=StaffProfile.objects.none())
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    date = forms.DateField(required=False)
    # The day the offered starts were searched from, carried by their links.
    slots_from = forms.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = staff_bookable()
        cast(forms.ModelChoiceField, self.fields["room"]).queryset = rooms_active()

    def clean_date(self) -> dt.date | None:
        return _check_year(self.cleaned_data.get("date"))

    def clean_slots_from(self) -> dt.date | None:
        return _check_year(self.cleaned_data.get("slots_from"))
