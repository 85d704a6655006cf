"""The product's URLs plus a bare view, for the benchmark only (never in mesoclinic.urls)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from mesoclinic.access import public


@public
def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: the floor that the middleware stack and gunicorn impose."""
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("mesoclinic.urls")),
]
