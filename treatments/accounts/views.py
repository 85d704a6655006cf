"""Sign-in pages: second-factor enrolment and code, a manager's reset, Django's password views."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_static.models import StaticDevice

from mesoclinic.access import ALL_STAFF, MANAGEMENT, StaffRequest, allow, public
from mesoclinic.errors import DomainError, put_on_form
from treatments.messaging.conf import site_url
from treatments.models import StaffProfile
from treatments.selectors import clinic_get

from . import selectors, services
from .forms import CodeForm, ResetConfirmForm


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if safe else reverse("home")


QR_TITLE = "Scan this with your authenticator app"


def _qr_svg(uri: str) -> str:
    # Drawn here, never by an outside service: the URI carries the shared secret.
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=QR_TITLE)
    return mark_safe(svg)  # noqa: S308 (segno's own markup; the URI is ours)


@allow(ALL_STAFF)
def second_factor_enrol(request: StaffRequest) -> HttpResponse:
    if selectors.second_factor_enrolled(user=request.user):
        return redirect(_next(request))
    device = services.second_factor_enrol_start(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.second_factor_enrol_confirm(
                user=request.user, code=form.cleaned_data["code"], ip=_ip(request)
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            django_otp.login(request, device)
            done = {"codes": codes, "next": _next(request)}
            return render(request, "accounts/recovery_codes.html", done)
    context = {
        "form": form,
        "next": _next(request),
        "qr_svg": _qr_svg(device.config_url),
        "secret": b32encode(device.bin_key).decode(),
        "required": selectors.second_factor_required(user=request.user),
    }
    return render(request, "accounts/enrol.html", context)


@allow(ALL_STAFF)
def second_factor_verify(request: StaffRequest) -> HttpResponse:
    if selectors.second_factor_verified(user=request.user):
        return redirect(_next(request))
    if not selectors.second_factor_enrolled(user=request.user):
        return redirect("accounts:second_factor_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(
                user=request.user, code=form.cleaned_data["code"]
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                left = selectors.second_factor_recovery_codes_left(user=request.user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. If your phone is lost, "
                    "ask a manager to reset your two-factor authentication.",
                )
            return redirect(_next(request))
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)})


@allow(MANAGEMENT)
def second_factor_reset(request: StaffRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(StaffProfile.objects.select_related("user"), pk=pk)
    form = ResetConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.second_factor_reset(user=staff.user, by=request.user, ip=_ip(request))
        messages.success(
            request, f"{staff}'s two-factor authentication was reset: they set it up again next."
        )
        return redirect("treatments:setup_staff")
    return render(request, "accounts/reset_confirm.html", {"form": form, "staff": staff})


# --- passwords: Django's views, with an audit entry and the must-change flag cleared -----------


class _PasswordChange(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "registration/password_change_form.html"

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, ip=_ip(self.request), reset=False)
        return response


class _PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, ip=_ip(self.request), reset=True)
        return response


class _PasswordReset(auth_views.PasswordResetView):
    # Links are built from SITE_URL, never from the request's Host header.
    subject_template_name = "accounts/emails/password_reset/subject.txt"
    email_template_name = "accounts/emails/password_reset/body.txt"
    html_email_template_name = "accounts/emails/password_reset/body.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"site_url": site_url(), "clinic": clinic_get()}
        return super().form_valid(form)


password_change = allow(ALL_STAFF)(_PasswordChange.as_view())
password_change_done = allow(ALL_STAFF)(auth_views.PasswordChangeDoneView.as_view())
password_reset = public(_PasswordReset.as_view())
password_reset_done = public(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = public(_PasswordResetConfirm.as_view())
password_reset_complete = public(auth_views.PasswordResetCompleteView.as_view())
