"""Sign-in forms: parsing only. Django's own password forms are used as they are."""

from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class ResetConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, remove this person's authenticator app and recovery codes",
        error_messages={"required": "Tick the box to confirm."},
    )
