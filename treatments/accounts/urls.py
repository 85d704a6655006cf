from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("two-factor/set-up/", views.second_factor_enrol, name="second_factor_enrol"),
    path("two-factor/", views.second_factor_verify, name="second_factor_verify"),
    path("two-factor/reset/<int:pk>/", views.second_factor_reset, name="second_factor_reset"),
]

# Django's password views at their standard (un-namespaced) names; mesoclinic.urls includes them.
password_urlpatterns = [
    path("password/change/", views.password_change, name="password_change"),
    path("password/change/done/", views.password_change_done, name="password_change_done"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.password_reset_complete, name="password_reset_complete"),
]
