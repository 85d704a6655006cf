from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms

from mesoclinic.errors import LocalTimeError
from patients.models import Patient
from treatments.clinic_time import AMBIGUOUS_RULE, local_to_utc
from treatments.clinical.models import Consultation
from treatments.models import Room, SessionType, StaffProfile
from treatments.selectors import clinic_zone, rooms_active, staff_bookable

from .models import PROTOCOL_NAME_TAKEN, SESSIONS_MAX, SESSIONS_MIN, Protocol


class ProtocolForm(forms.ModelForm):
    class Meta:
        model = Protocol
        fields = [
            "name",
            "indication",
            "description",
            "sessions_count",
            "interval_min_days",
            "interval_max_days",
            "maintenance_interval_days",
            "default_session_type",
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "sessions_count": "Number of sessions",
            "interval_min_days": "Interval from (days)",
            "interval_max_days": "Interval to (days)",
            "maintenance_interval_days": "Maintenance every (days)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["default_session_type"])
        field.queryset = SessionType.objects.filter(active=True)

    def clean_name(self) -> str:
        # Said beside the name. Unique whatever its case: the model's constraint would say it
        # above the form (an expression has no field); protocol_save says it under a race.
        name = self.cleaned_data["name"].strip()
        same = Protocol.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if same.exists():
            raise forms.ValidationError(PROTOCOL_NAME_TAKEN)
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        low, high = data.get("interval_min_days"), data.get("interval_max_days")
        if low is not None and high is not None and low > high:
            self.add_error(
                "interval_max_days", "The interval must end on or after the day it starts."
            )
        return data


class ConsultationChoiceField(forms.ModelChoiceField[Consultation]):
    def label_from_instance(self, obj: Consultation) -> str:
        planned = f" ({obj.plan_sessions} sessions planned)" if obj.plan_sessions else ""
        return f"Consultation of {obj.created_at:%d %b %Y}{planned}"


class CourseForm(forms.Form):
    protocol = forms.ModelChoiceField(queryset=Protocol.objects.none())
    sessions_count = forms.IntegerField(
        label="Number of sessions",
        min_value=SESSIONS_MIN,
        max_value=SESSIONS_MAX,
        required=False,
        help_text="Leave empty to follow the protocol (usually 3 to 6).",
    )
    practitioner: forms.ModelChoiceField[StaffProfile] = forms.ModelChoiceField(queryset=None)
    session_type: forms.ModelChoiceField[SessionType] = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Empty: the protocol's default."
    )
    room: forms.ModelChoiceField[Room] = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Empty: any free room."
    )
    consultation = ConsultationChoiceField(
        queryset=None, required=False, label="From the consultation's plan"
    )
    plan_reference = forms.CharField(label="Plan note", max_length=200, required=False)

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = {
            name: cast(forms.ModelChoiceField, self.fields[name])
            for name in ("protocol", "practitioner", "session_type", "room", "consultation")
        }
        fields["protocol"].queryset = Protocol.objects.filter(active=True)
        fields["practitioner"].queryset = staff_bookable()
        fields["session_type"].queryset = SessionType.objects.filter(active=True)
        fields["room"].queryset = rooms_active()
        fields["consultation"].queryset = Consultation.objects.filter(patient=patient)


class StepBookForm(forms.Form):
    """Book a step at its proposed instant (`starts_at`) or at a local date and time."""

    starts_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    date = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    time = forms.TimeField(
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}),
        help_text=AMBIGUOUS_RULE,
    )
    room = forms.ModelChoiceField(queryset=Room.objects.filter(active=True), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        if data.get("starts_at") is None:
            if data.get("date") is None or data.get("time") is None:
                raise forms.ValidationError("Give the date and time to book.")
            try:
                data["starts_at"] = local_to_utc(
                    datetime.combine(data["date"], data["time"]), clinic_zone()
                )
            except LocalTimeError as err:
                self.add_error("time", err.message)
        return data


class StopForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class StepChoiceQueryForm(forms.Form):
    """The booking form's fields the "count as a course session" partial reads (htmx GET).

    Every field is optional; a malformed one is ignored, so the partial never errors.
    """

    patient = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    session_type = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    date = forms.DateField(required=False)
    course_step = forms.CharField(required=False, max_length=16)
    # The session type the shown choice was preselected for: when the desk changes the type,
    # the preselection follows it; otherwise what the desk ticked is kept.
    course_step_for_type = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
