"""Parsing and field checks for the waiting list's pages; the rules live in .services."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from patients.models import Patient
from treatments.models import SessionType, StaffProfile


class WishForm(forms.Form):
    """What the patient waits for: the desk's form and the booking page's."""

    session_type = forms.ModelChoiceField(queryset=SessionType.objects.none(), label="Session")
    practitioner = forms.ModelChoiceField(
        queryset=StaffProfile.objects.none(), required=False, empty_label="Anyone", label="With"
    )
    earliest = forms.DateField(
        label="Earliest date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    latest = forms.DateField(
        label="Latest date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mornings = forms.BooleanField(required=False, initial=True, label="Mornings (before 12:00)")
    afternoons = forms.BooleanField(required=False, initial=True, label="Afternoons (12:00–17:00)")
    evenings = forms.BooleanField(required=False, initial=True, label="Evenings (from 17:00)")

    def __init__(self, *args: Any, types: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["session_type"]).queryset = types
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = staff

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("mornings") or data.get("afternoons") or data.get("evenings")):
            self.add_error("mornings", "Choose at least one time of day.")
        return data


class DeskEntryForm(WishForm):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(), widget=forms.HiddenInput, label="Patient"
    )
    note = forms.CharField(max_length=300, required=False, label="Note for the desk")
    field_order = ["patient", "session_type", "practitioner", "earliest", "latest"]


class JoinForm(WishForm):
    """The booking page's "join the waiting list": who the patient is (an existing patient)."""

    email = forms.EmailField(max_length=254)
    date_of_birth = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="Date of birth"
    )


class SettingsForm(forms.Form):
    batch_size = forms.IntegerField(
        min_value=1, max_value=20, label="Patients offered a freed slot at once"
    )
    offer_minutes = forms.IntegerField(
        min_value=10, max_value=7 * 24 * 60, label="An offer stays open for (minutes)"
    )
    notice_minutes = forms.IntegerField(
        min_value=0, max_value=7 * 24 * 60, label="Notice before the slot (minutes)"
    )
