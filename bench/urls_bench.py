"""The product's URLs plus a bare view, for the benchmark only (never in mesoclinic.urls)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from mesoclinic.access import ALL_STAFF, allow, public


@public
def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: the floor that the middleware stack and gunicorn impose."""
    return HttpResponse(b"ok\n", content_type="text/plain")


@allow(ALL_STAFF)
def bare_login(request: HttpRequest) -> HttpResponse:
    """The same short text behind the product's login check (`@allow`, as every staff page):
    issue 8's yardstick, "a login-required view that returns a short text with no query of its
    own, under the same middleware". The session, user, second-factor and role reads are the
    login check's, not the view's."""
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/bare-login/", bare_login, name="bench_bare_login"),
    path("", include("mesoclinic.urls")),
]
