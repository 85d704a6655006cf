from django.contrib import admin
from django.urls import include, path

from treatments.accounts.urls import password_urlpatterns

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", views.logout, name="logout"),
    path("accounts/session/", views.session_status, name="session_status"),
    path("accounts/session/extend/", views.session_extend, name="session_extend"),
    path("accounts/locks/", views.signin_locks, name="signin_locks"),
    path("accounts/locks/unlock/", views.signin_unlock, name="signin_unlock"),
    path("accounts/", include(password_urlpatterns)),
    path("accounts/", include("treatments.accounts.urls")),
    path("patients/", include("patients.urls")),
    path("m/", include("treatments.messaging.urls")),
    path("book/", include("treatments.online.urls")),
    path("waitlist/", include("treatments.waitlist.urls")),
    path("setup/audit/", include("mesoclinic.audit.urls")),
    path("", include("treatments.urls")),
    path("products/", include("treatments.products.urls")),
    path("courses/", include("treatments.courses.urls")),
    path("clinical/", include("treatments.clinical.urls")),
    path("data-protection/", include("treatments.dataprotection.urls")),
    path("admin/", admin.site.urls),
]
