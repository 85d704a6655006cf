"""Forms behind the patients' link pages: parsing and field validation only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms


class ReactionReportForm(forms.Form):
    TYPES = [
        ("bruising", "Bruising"),
        ("swelling", "Swelling"),
        ("redness", "Redness"),
        ("pain", "Pain"),
        ("itching", "Itching"),
        ("infection", "Heat, pus or a fever (possible infection)"),
        ("nodules", "Lumps under the skin"),
        ("allergic", "Rash, hives or other allergic signs"),
        ("other", "Something else"),
    ]
    SEVERITIES = [
        ("mild", "Mild: noticeable, but not getting in the way"),
        ("moderate", "Moderate: uncomfortable or getting worse"),
        ("severe", "Severe: very painful, spreading, or I feel unwell"),
    ]
    type = forms.ChoiceField(label="What have you noticed?", choices=TYPES)
    severity = forms.ChoiceField(
        label="How bad is it?", choices=SEVERITIES, widget=forms.RadioSelect
    )
    onset = forms.DateTimeField(
        label="When did it start?",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    description = forms.CharField(
        label="Tell us more (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SlotForm(forms.Form):
    slot = forms.ChoiceField(label="Choose a time", widget=forms.RadioSelect)

    def __init__(self, *args: Any, slots: list[datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = {slot.isoformat(): slot for slot in slots}
        cast(forms.ChoiceField, self.fields["slot"]).choices = [
            (key, f"{slot:%A} {slot.day} {slot:%B} at {slot:%H:%M}")
            for key, slot in self.slots.items()
        ]

    def clean_slot(self) -> datetime:
        return self.slots[self.cleaned_data["slot"]]
