"""Request middleware that needs the clinic set-up (booking layer)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .selectors import clinic_for_request


class ClinicTimezoneMiddleware:
    """Show every page in the clinic's own time zone (storage stays UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with clinic_for_request() as clinic:
            timezone.activate(clinic.zone)
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
