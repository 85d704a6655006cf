"""Who may do what. Every view declares its roles with `@allow(...)` or `@public`.

Roles are Django groups (created by treatments' data migration). A test walks every URL
pattern and fails for a view that declares neither, so no page is ever left open by omission.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django_htmx.middleware import HtmxDetails


class Role(StrEnum):
    FRONT_DESK = "Front desk"
    PRACTITIONER = "Practitioner"
    THERAPIST = "Aesthetic therapist"
    MANAGER = "Clinic manager"


ALL_STAFF = frozenset(Role)
# Clinical content (notes, screening, photos) is never shown to the front desk.
CLINICAL = frozenset({Role.PRACTITIONER, Role.THERAPIST, Role.MANAGER})
BOOKING = frozenset({Role.FRONT_DESK, Role.PRACTITIONER, Role.THERAPIST, Role.MANAGER})
MANAGEMENT = frozenset({Role.MANAGER})
# Marker: reachable without login (login page, signed patient links).
PUBLIC: frozenset[Role] = frozenset()


class StaffRequest(HttpRequest):
    """The request an `@allow` view receives: the decorator has checked that `user` is signed
    in, and django-htmx's middleware (on every request) has added `htmx`."""

    user: User
    htmx: HtmxDetails


def user_roles(user: User | AnonymousUser) -> frozenset[Role]:
    """The user's roles, read once per request (cached on the user object, in its instance
    dict as Django's auth backend caches permissions)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = user.__dict__.get("_mesoclinic_roles")
    if cached is None:
        if user.is_superuser:
            cached = frozenset({Role.MANAGER})
        else:
            names = set(user.groups.values_list("name", flat=True))
            cached = frozenset(role for role in Role if role.value in names)
        user.__dict__["_mesoclinic_roles"] = cached
    return cached


def has_role(user: User | AnonymousUser, roles: frozenset[Role] | set[Role]) -> bool:
    return bool(user_roles(user) & set(roles))


def can_see_clinical(user: User | AnonymousUser) -> bool:
    return has_role(user, CLINICAL)


def can_book(user: User | AnonymousUser) -> bool:
    return has_role(user, BOOKING)


def can_manage(user: User | AnonymousUser) -> bool:
    return has_role(user, MANAGEMENT)


ViewFunc = Callable[..., HttpResponseBase]


def allow(*roles: Role | frozenset[Role]) -> Callable[[ViewFunc], ViewFunc]:
    """Require login and one of `roles`; anonymous users go to the login page, others get 403."""
    allowed: set[Role] = set()
    for role in roles:
        allowed |= set(role) if isinstance(role, frozenset) else {role}
    if not allowed:
        raise ValueError("allow() needs at least one role; use @public for open views")

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, allowed):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        # A plain attribute on the view function, read by the access test; mypy does not
        # model attributes set on functions.
        wrapper.access_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def public(view: ViewFunc) -> ViewFunc:
    """Mark a view as deliberately reachable without login."""
    view.access_roles = PUBLIC  # type: ignore[attr-defined]  # see allow()
    return view


def roles_context(request: HttpRequest) -> dict[str, Any]:
    roles = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": roles,
        "can_see_clinical": bool(roles & CLINICAL),
        "can_manage": bool(roles & MANAGEMENT),
        "can_book": bool(roles & BOOKING),
    }
