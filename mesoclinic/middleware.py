"""Response headers Django has no setting for."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from .safety import EXPLANATION, is_loopback, unsafe_to_expose


class PermissionsPolicyMiddleware:
    """Send `Permissions-Policy` from settings.PERMISSIONS_POLICY ({feature: [allowed origins]}).

    An empty list is `feature=()`: nobody, not even the app's own pages, may use it. Django has no
    setting for this header (it has for the others), hence this small middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy: dict[str, list[str]] = getattr(settings, "PERMISSIONS_POLICY", {})
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in policy.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


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
