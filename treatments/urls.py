from django.urls import path

from .views import calendar as calendar_views
from .views import sessions as session_views

app_name = "treatments"
urlpatterns: list = []

# Calendar and booking: the front desk's screens (treatments/views/calendar.py, sessions.py).
urlpatterns += [
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("sessions/new/", session_views.session_create, name="session_create"),
    path("sessions/<int:pk>/", session_views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/move/", session_views.session_reschedule, name="session_reschedule"),
    path("sessions/<int:pk>/cancel/", session_views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/status/", session_views.session_status, name="session_status"),
]
