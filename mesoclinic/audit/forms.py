from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from .models import AuditEntry

User = get_user_model()
EARLIEST = dt.date(2000, 1, 1)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        return name if obj.is_active else f"{name} (deactivated)"


class AuditFilterForm(forms.Form):
    """The audit page's filters (GET). Each is optional; a bad one is named beside its field."""

    actor = StaffChoiceField(
        queryset=User.objects.order_by("-is_active", "first_name", "last_name", "username"),
        required=False,
        label="Staff member",
        empty_label="Anyone",
    )
    patient = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Patient number",
        help_text="The number on the patient's page.",
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEntry.Action.choices], required=False
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_date_from(self) -> dt.date | None:
        return self._check_day(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> dt.date | None:
        return self._check_day(self.cleaned_data.get("date_to"))

    @staticmethod
    def _check_day(day: dt.date | None) -> dt.date | None:
        if day is not None and not EARLIEST <= day <= dt.date(9998, 12, 31):
            raise forms.ValidationError(f"Choose a date from {EARLIEST:%Y} onwards.")
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "actor_id": data["actor"].pk if data.get("actor") else None,
            "patient_id": data.get("patient"),
            "action": data.get("action") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
