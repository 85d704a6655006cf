"""Parsing and field validation for the patient pages. No business rules here.

What a field accepts (decided for the front desk, tested in tests/test_views.py):
- Names: letters of any script with their accents, spaces, apostrophes, hyphens and full stops.
  No digits, emoji, markup (`<`, `>`) or control / invisible formatting characters: none of them
  belong in a name, and a name is printed on letters and labels.
- Email: a valid address, no emoji or control characters.
- Phone: digits, spaces, `+` (only at the start), `-`, `(`, `)`; 7 to 20 digits.
- Address: free text up to 500 characters on several lines; emoji are accepted (harmless, and
  patients paste what they paste), markup brackets and control characters are not.
- Date of birth: DD/MM/YYYY, DD.MM.YYYY or YYYY-MM-DD; from 1 Jan 1900 to today (clinic's zone).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from .models import ConsentChange

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
_NAME_PUNCTUATION = set(" '’-.")
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-()]+$")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 20


def _has_control_or_invisible(value: str, *, allow_newlines: bool = False) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    # Cc: control characters; Cf: invisible formatting (zero-width, bidi overrides that make
    # text display differently from what is stored); Cs/Co/Cn: not real characters.
    return any(
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} and ch not in allowed
        for ch in value
    )


def validate_person_name(value: str) -> None:
    if "<" in value or ">" in value:
        raise forms.ValidationError("Names cannot contain < or >.")
    if _has_control_or_invisible(value):
        raise forms.ValidationError("This name contains hidden or control characters.")
    for ch in value:
        category = unicodedata.category(ch)
        if not (category.startswith("L") or category.startswith("M") or ch in _NAME_PUNCTUATION):
            raise forms.ValidationError(
                "Use letters only (with spaces, hyphens, apostrophes or full stops)."
            )
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        raise forms.ValidationError("Enter the name in letters.")


def validate_phone(value: str) -> None:
    if not _PHONE_CHARS.match(value):
        raise forms.ValidationError(
            "Use digits, spaces, and + ( ) - only, for example +44 7700 900123."
        )
    count = len(re.sub(r"\D", "", value))  # as typed: the count the desk can check
    if not MIN_PHONE_DIGITS <= count <= MAX_PHONE_DIGITS:
        raise forms.ValidationError(
            f"A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits; "
            f"this one has {count}."
        )


def validate_email_characters(value: str) -> None:
    if _has_control_or_invisible(value) or any(
        unicodedata.category(ch) in {"So", "Sk"} for ch in value
    ):
        raise forms.ValidationError("Enter the email address without symbols or emoji.")


def validate_address(value: str) -> None:
    if "<" in value or ">" in value:
        raise forms.ValidationError("An address cannot contain < or >.")
    if _has_control_or_invisible(value, allow_newlines=True):
        raise forms.ValidationError("This address contains hidden or control characters.")


def validate_birth_date(value: dt.date) -> None:
    if value > timezone.localdate():
        raise forms.ValidationError("The date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH_DATE:
        raise forms.ValidationError("The date of birth cannot be before 1900.")


class PatientForm(forms.Form):
    """Identity and contact details; on registration also the patient's consents."""

    first_name = forms.CharField(max_length=100, validators=[validate_person_name])
    last_name = forms.CharField(max_length=100, validators=[validate_person_name])
    date_of_birth = forms.DateField(
        input_formats=DATE_INPUT_FORMATS,
        validators=[validate_birth_date],
        # A text box, not a date picker: the desk types birth dates faster than it scrolls to
        # 1962, and a rejected value stays on screen as typed (a date input would blank it).
        widget=forms.DateInput(
            attrs={"placeholder": "DD/MM/YYYY", "inputmode": "numeric", "autocomplete": "off"},
            format="%d/%m/%Y",
        ),
        help_text="For example 14/03/1985.",
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text="Mobile preferred, with country code if not UK.",
    )
    email = forms.EmailField(
        max_length=254,
        required=False,
        validators=[validate_email_characters],
        help_text="Booking confirmations, reminders and aftercare go here.",
    )
    address = forms.CharField(
        max_length=500,
        required=False,
        validators=[validate_address],
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    email_reminders_consent = forms.BooleanField(
        required=False,
        label="Email reminders and aftercare",
        help_text="Confirmations, preparation advice, reminders and aftercare emails.",
    )
    marketing_consent = forms.BooleanField(
        required=False,
        label="Follow-up and maintenance nudges",
        help_text="Emails suggesting the next session of a course or a maintenance session.",
    )
    confirm_duplicate = forms.BooleanField(
        required=False,
        label="Create anyway: I have checked, this is a different person",
    )

    def __init__(self, *args, with_consents: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.with_consents = with_consents
        if not with_consents:
            # Consents change on the patient page, one at a time, so each change is recorded.
            for name in ("email_reminders_consent", "marketing_consent", "confirm_duplicate"):
                del self.fields[name]
        self.fields["first_name"].widget.attrs["autocomplete"] = "off"
        self.fields["last_name"].widget.attrs["autocomplete"] = "off"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        layout = [
            Row(
                Column("first_name", css_class="col-md-6"),
                Column("last_name", css_class="col-md-6"),
            ),
            Row(
                Column("date_of_birth", css_class="col-md-6"), Column("phone", css_class="col-md-6")
            ),
            "email",
            "address",
        ]
        if with_consents:
            layout.append(
                Fieldset(
                    "Consents (ask the patient)",
                    "email_reminders_consent",
                    "marketing_consent",
                )
            )
        # confirm_duplicate is left out on purpose: the page shows it beside the matches only.
        self.helper.layout = Layout(*layout)


class PatientSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True)


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentChange.Kind.choices)
    given = forms.TypedChoiceField(
        choices=[("1", "Given"), ("0", "Withdrawn")], coerce=lambda v: v == "1"
    )
