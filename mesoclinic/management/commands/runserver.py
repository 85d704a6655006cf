"""runserver that refuses a non-loopback bind address in the development configuration.

It extends whichever runserver comes next (whitenoise's, which extends staticfiles'), so static
file handling is unchanged; `mesoclinic` is first in INSTALLED_APPS for this command to win.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from whitenoise.runserver_nostatic.management.commands.runserver import Command as BaseCommand

from mesoclinic.safety import refuse_non_loopback, unsafe_to_expose


def refuse_unsafe_bind(address: str) -> None:
    """Raise CommandError if the development configuration would serve on `address`."""
    if not unsafe_to_expose(debug=settings.DEBUG, secret_key=settings.SECRET_KEY):
        return
    try:
        refuse_non_loopback(address, what="address")
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    def run(self, **options: Any) -> None:
        # "0" is runserver's shorthand for 0.0.0.0.
        refuse_unsafe_bind("0.0.0.0" if self.addr == "0" else self.addr)  # noqa: S104
        super().run(**options)
