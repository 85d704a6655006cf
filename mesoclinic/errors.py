"""Domain errors: raised by services, carrying a message the person at the desk can act on.

Views put `message` on the form (next to `field` when one is named), never a 500 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.db import IntegrityError, transaction


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SlotTaken(DomainError):
    """Another active session already holds part of the requested time."""


class NotBookable(DomainError):
    """The request breaks a booking rule (hours, qualification, the past...)."""


class BookingHeld(DomainError):
    """The patient has a "do not book" hold: a practitioner must see them first."""


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


# PostgreSQL's SQLSTATE for a unique violation.
UNIQUE_VIOLATION = "23505"


@contextmanager
def unique_or_field_error(*, constraint: str, message: str, field: str) -> Iterator[None]:
    """Run a create or rename in a savepoint; if the unique constraint whose name contains
    `constraint` refuses it (two people saved the same name at once, both past the service's
    check), raise `message` beside `field` instead of an error page. Any other integrity error
    is a bug and stays one. The savepoint keeps the caller's transaction usable.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        cause = exc.__cause__
        code = getattr(cause, "pgcode", None)
        # PostgreSQL names the constraint; SQLite says "UNIQUE constraint failed: table.column".
        name = getattr(getattr(cause, "diag", None), "constraint_name", None) or str(exc)
        if (code is not None and code != UNIQUE_VIOLATION) or constraint not in name:
            raise
        raise DomainError(message, field=field) from exc


def put_on_form(form: forms.BaseForm, err: DomainError) -> None:
    """Show a service's refusal beside the field it names, or above the form if the form has
    no such field (a message is never lost to a ValueError, i.e. never a 500)."""
    form.add_error(err.field if err.field in form.fields else None, err.message)
