from django.urls import path

from . import views

app_name = "waitlist"

urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("add/", views.entry_add, name="entry_add"),
    path("settings/", views.waitlist_settings, name="settings"),
    path("<int:pk>/", views.entry_detail, name="entry_detail"),
    path("<int:pk>/withdraw/", views.entry_withdraw, name="entry_withdraw"),
    # The patient's pages (no login).
    path("offer/<str:token>/", views.offer, name="offer"),
    path("join/", views.join, name="join"),
    path("join/check-your-email/", views.check_email, name="check_email"),
    path("join/confirm/<str:token>/", views.join_verify, name="join_verify"),
]
