"""Report-a-reaction and book-the-next-session link pages (need treatments.clinical/courses)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from .links import LinkInvalid


def reaction_view(request: HttpRequest, token: str) -> HttpResponse:
    from .views import _link_error

    return _link_error(request, LinkInvalid())


def book_view(request: HttpRequest, token: str) -> HttpResponse:
    from .views import _link_error

    return _link_error(request, LinkInvalid())
