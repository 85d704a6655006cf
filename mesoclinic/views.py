from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect

from .access import ALL_STAFF, StaffRequest, allow, public


@allow(ALL_STAFF)
def home(request: StaffRequest) -> HttpResponse:
    return redirect("treatments:calendar")


login = public(auth_views.LoginView.as_view(redirect_authenticated_user=True))
logout = public(auth_views.LogoutView.as_view())
