from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone

from .safety import EXPLANATION, is_loopback, unsafe_to_expose


class ClinicTimezoneMiddleware:
    """Show every page in the clinic's own time zone (storage stays UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from treatments.selectors import clinic_for_request

        with clinic_for_request() as clinic:
            timezone.activate(clinic.zone)
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()


class LoopbackOnlyMiddleware:
    """Fail closed at request time too: the development configuration answers only this machine
    (a server started some other way, e.g. gunicorn on 0.0.0.0, still exposes nothing)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if unsafe_to_expose(debug=settings.DEBUG, secret_key=settings.SECRET_KEY) and not (
            is_loopback(request.META.get("REMOTE_ADDR", ""))
        ):
            return HttpResponseForbidden(EXPLANATION, content_type="text/plain")
        return self.get_response(request)
