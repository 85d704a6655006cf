from __future__ import annotations

from django import forms


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="The patient asked for their data to be erased, and I have checked who they are.",
        error_messages={"required": "Tick the box to confirm the request."},
    )
