from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class ClinicTimezoneMiddleware:
    """Show every page in the clinic's own time zone (storage stays UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from treatments.selectors import clinic_get

        # Kept on the request so that views needing the clinic do not read its row again.
        request.clinic = clinic_get()
        timezone.activate(request.clinic.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
