from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/logout/", views.logout, name="logout"),
    path("patients/", include("patients.urls")),
    path("m/", include("treatments.messaging.urls")),
    path("", include("treatments.urls")),
    path("products/", include("treatments.products.urls")),
    path("courses/", include("treatments.courses.urls")),
    path("clinical/", include("treatments.clinical.urls")),
    path("data-protection/", include("treatments.dataprotection.urls")),
    path("admin/", admin.site.urls),
]
