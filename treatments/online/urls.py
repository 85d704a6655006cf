from django.urls import path

from . import views

app_name = "online"

urlpatterns = [
    path("", views.book, name="book"),
    path("check-your-email/", views.check_email, name="check_email"),
    path("confirm/<str:token>/", views.verify, name="verify"),
    path("requests/", views.requests, name="requests"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
]
