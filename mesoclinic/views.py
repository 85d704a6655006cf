from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from mesoclinic.audit import signin as signin_svc
from mesoclinic.errors import DomainError, put_on_form

from .access import ALL_STAFF, MANAGEMENT, Role, StaffRequest, allow, has_role, public
from .client_ip import client_ip
from .forms import SigninUnlockForm
from .session_limits import seconds_left, session_touch
from .signin_locks import signin_locks_current


@allow(ALL_STAFF)
def home(request: StaffRequest) -> HttpResponse:
    """Each role lands on its day: practitioners and therapists on their today list, the desk on
    today's arrivals, a manager on the calendar."""
    if has_role(request.user, {Role.PRACTITIONER, Role.THERAPIST}):
        return redirect("clinical:today")
    if has_role(request.user, {Role.FRONT_DESK}):
        return redirect("treatments:today")
    return redirect("treatments:calendar")


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


login = public(auth_views.LoginView.as_view(redirect_authenticated_user=True))
logout = public(LogoutView.as_view())


def signin_locked(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The answer to a sign-in refused by a lock (AXES_LOCKOUT_CALLABLE), on both login forms.

    The same text whether or not the username exists: axes locks unknown names too.
    """
    username = str((credentials or {}).get("username") or "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "lock_message": settings.AXES_COOLOFF_MESSAGE,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)


@allow(MANAGEMENT)
@require_GET
def signin_locks(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "registration/signin_locks.html",
        {
            "locks": signin_locks_current(),
            "title": "Sign-in locks",
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "ip_failure_limit": settings.SIGNIN_IP_FAILURE_LIMIT,
            "cooloff_minutes": settings.SIGNIN_COOLOFF_MINUTES,
        },
    )


@allow(MANAGEMENT)
def signin_unlock(request: StaffRequest) -> HttpResponse:
    """GET asks to confirm; POST with confirm=yes lifts the lock."""
    form = SigninUnlockForm(request.POST if request.method == "POST" else request.GET)
    if request.method == "POST" and request.POST.get("confirm") == "yes" and form.is_valid():
        try:
            ip = client_ip(request)
            signin_svc.signin_unlock(by=request.user, **form.cleaned_data, from_ip=ip)
        except DomainError as err:
            put_on_form(form, err)
        else:
            who = form.cleaned_data["username"] or f"the address {form.cleaned_data['ip_address']}"
            messages.success(request, f"Sign-in unlocked for {who}.")
            return redirect("signin_locks")
    return render(request, "registration/signin_unlock.html", {"form": form, "title": "Unlock"})


@allow(ALL_STAFF)
@require_GET
def session_status(request: StaffRequest) -> JsonResponse:
    """Time left in this session, for the warning; not counted as activity."""
    left, extendable = seconds_left(request)
    return JsonResponse({"seconds_left": int(left), "extendable": extendable})


@allow(ALL_STAFF)
@require_POST
def session_extend(request: StaffRequest) -> JsonResponse:
    """'Stay signed in': this request is the activity; its time is recorded now."""
    session_touch(request)
    left, extendable = seconds_left(request)
    return JsonResponse({"seconds_left": int(left), "extendable": extendable})
