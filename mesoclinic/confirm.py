"""Confirmation for actions that take something away (deactivating a staff member or a room).

The GET shows what will happen, with a signed token in the form; the POST acts only with a valid
token for the same action, object and user, made in the last CONFIRM_MAX_AGE seconds. A POST
without one (a form elsewhere, a replayed request, a double click from an old page) changes
nothing and gets the confirmation page again. CSRF protection still applies on top.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django import forms
from django.core import signing

CONFIRM_MAX_AGE = 15 * 60
_SALT = "mesoclinic.confirm"


class Target(TypedDict):
    """What a token is for: the action, its object and the user who confirms."""

    action: str
    object_id: int
    user_id: int


def confirm_token(*, action: str, object_id: int, user_id: int) -> str:
    return signing.dumps([action, object_id, user_id], salt=_SALT)


def confirm_token_valid(token: str, *, action: str, object_id: int, user_id: int) -> bool:
    try:
        signed = signing.loads(token, salt=_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return signed == [action, object_id, user_id]


class ConfirmForm(forms.Form):
    """One hidden field, `confirm`, always rendered with a fresh token for this action."""

    confirm = forms.CharField(widget=forms.HiddenInput, max_length=500)

    def __init__(
        self, data: Any = None, *, action: str, object_id: int, user_id: int, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.target: Target = {"action": action, "object_id": object_id, "user_id": user_id}

    def clean_confirm(self) -> str:
        token = self.cleaned_data["confirm"]
        if not confirm_token_valid(token, **self.target):
            raise forms.ValidationError("Please confirm on this page.", code="unconfirmed")
        return token

    def fresh_token(self) -> str:
        return confirm_token(**self.target)
