"""Domain errors: raised by services, carrying a message the person at the desk can act on.

Views put `message` on the form (next to `field` when one is named), never a 500 page.
"""

from __future__ import annotations

from django import forms


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SlotTaken(DomainError):
    """Another active session already holds part of the requested time."""


class NotBookable(DomainError):
    """The request breaks a booking rule (hours, qualification, the past...)."""


class InvalidTransition(DomainError):
    """A status change that does not apply to the session's current state."""


class LocalTimeError(DomainError):
    """A wall-clock time that does not exist in the clinic's zone (spring-forward gap)."""


class PossibleDuplicate(DomainError):
    """A new patient looks like one already registered (same name and birth date, email or phone).

    `matches` holds the existing patients so the desk can open them, or confirm and create anyway.
    """

    def __init__(self, message: str, *, matches: list, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.matches = matches


def put_on_form(form: forms.BaseForm, err: DomainError) -> None:
    """Show a service's refusal beside the field it names, or above the form if the form has
    no such field (a message is never lost to a ValueError, i.e. never a 500)."""
    form.add_error(err.field if err.field in form.fields else None, err.message)
