"""Parsing and field checks for the public booking page; the rules live in .services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms

from treatments.models import SessionType, StaffProfile


class SessionTypeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        # New patients may book only a consultation type: say so before anyone chooses.
        if obj.new_patients_online:
            return str(obj.name)
        return f"{obj.name} (if you have been to the clinic)"


class ChooseForm(forms.Form):
    """The GET part: what, with whom, which day."""

    session_type = SessionTypeChoice(queryset=SessionType.objects.none(), label="Session")
    practitioner = forms.ModelChoiceField(
        queryset=StaffProfile.objects.none(), required=False, empty_label="Anyone", label="With"
    )
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, types: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["session_type"]).queryset = types
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = staff


class IdentifyForm(forms.Form):
    """The POST part: the slot and who the patient is."""

    slot = forms.CharField(max_length=40, widget=forms.HiddenInput)
    is_new = forms.TypedChoiceField(
        label="Have you been to the clinic before?",
        choices=[("0", "Yes, I am a patient"), ("1", "No, I am new")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    email = forms.EmailField(max_length=254)
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    phone = forms.CharField(max_length=32, required=False)
    # Unticked by default: an opt-in is only what the person ticked.
    email_reminders_consent = forms.BooleanField(
        required=False,
        label="Email me reminders before my appointments and aftercare advice after them",
    )
    marketing_consent = forms.BooleanField(
        required=False,
        label="Email me when my next session is due (follow-up and maintenance reminders)",
    )

    def clean_slot(self) -> datetime:
        try:
            value = datetime.fromisoformat(self.cleaned_data["slot"])
        except ValueError:
            raise forms.ValidationError("Choose a time from the list.") from None
        if value.tzinfo is None:
            raise forms.ValidationError("Choose a time from the list.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_new"):
            for name in ("first_name", "last_name", "phone"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, "New patients: please fill this in.")
        return data
