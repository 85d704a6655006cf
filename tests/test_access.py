"""Every URL pattern has an access rule, and every role gets exactly what the rule says.

A new view without `@allow(...)` or `@public` fails `test_every_view_declares_its_roles`.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from mesoclinic.access import PUBLIC, Role

PERSONAS = {
    "front_desk": Role.FRONT_DESK,
    "practitioner": Role.PRACTITIONER,
    "therapist": Role.THERAPIST,
    "manager": Role.MANAGER,
    "outsider": None,
}
# Django's admin has its own gate (staff users only); it is checked separately below.
OWN_GATE_NAMESPACES = {"admin"}


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def concrete_path(route: str) -> str:
    """Fill converters with plausible values: ints -> 1, anything else -> a word."""

    def fill(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return "1" if converter == "int" else "x1"

    path = re.sub(r"<(?:(\w+):)?\w+>", fill, route)
    if path.startswith("^"):
        raise AssertionError(f"regex route {route!r}: give it a concrete example here")
    return "/" + path


PATTERNS = [
    (route, ns, entry) for route, ns, entry in walk(get_resolver()) if ns not in OWN_GATE_NAMESPACES
]
IDS = [f"{ns}:{entry.name}" if ns else str(entry.name) for _, ns, entry in PATTERNS]


@pytest.mark.parametrize(("route", "ns", "entry"), PATTERNS, ids=IDS)
def test_every_view_declares_its_roles(route, ns, entry):
    roles = getattr(entry.callback, "access_roles", None)
    assert roles is not None, (
        f"{route} ({entry.lookup_str}) has no access rule: decorate it with "
        "@allow(<roles>) or @public from mesoclinic.access"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "ns", "entry"), PATTERNS, ids=IDS)
def test_anonymous_users_go_to_the_login_page(client, clinic, route, ns, entry):
    response = client.get(concrete_path(route))
    if getattr(entry.callback, "access_roles", None) == PUBLIC:
        assert response.status_code < 500
        return
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize(("route", "ns", "entry"), PATTERNS, ids=IDS)
def test_each_role_is_allowed_or_forbidden_as_declared(request, persona, route, ns, entry):
    roles = getattr(entry.callback, "access_roles", None)
    if roles == PUBLIC:
        return
    client = request.getfixturevalue(persona)
    response = client.get(concrete_path(route))
    role = PERSONAS[persona]
    if role in (roles or ()):
        # Allowed: the view may answer 200, redirect, 404 for a made-up id, or 405 for POST-only.
        assert response.status_code in {200, 302, 404, 405}, response.status_code
    else:
        assert response.status_code == 403


@pytest.mark.django_db
def test_the_admin_is_closed_to_everyone_but_staff_users(client, front_desk, clinic):
    assert client.get("/admin/").status_code == 302
    response = front_desk.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
