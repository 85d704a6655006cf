from django.urls import path

from .views import availability as availability_views
from .views import calendar as calendar_views
from .views import sessions as session_views
from .views import setup as setup_views
from .views import today as today_views

app_name = "treatments"
urlpatterns: list = []

# Calendar and booking: the front desk's screens (treatments/views/calendar.py, sessions.py).
urlpatterns += [
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("today/", today_views.desk_today, name="today"),
    path(
        "today/cancellations/<int:pk>/seen/",
        today_views.patient_cancellation_seen,
        name="patient_cancellation_seen",
    ),
    path("sessions/new/", session_views.session_create, name="session_create"),
    path("sessions/next/", availability_views.next_available, name="next_available"),
    path("sessions/<int:pk>/", session_views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/move/", session_views.session_reschedule, name="session_reschedule"),
    path("sessions/<int:pk>/drop/", calendar_views.session_drop, name="session_drop"),
    path("sessions/<int:pk>/cancel/", session_views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/status/", session_views.session_status, name="session_status"),
]

# Clinic set-up: the clinic manager's screens (treatments/views/setup.py).
urlpatterns += [
    path("setup/", setup_views.setup, name="setup"),
    path("setup/clinic/", setup_views.setup_clinic, name="setup_clinic"),
    path("setup/opening-hours/", setup_views.setup_opening_hours, name="setup_opening_hours"),
    path("setup/rooms/", setup_views.setup_rooms, name="setup_rooms"),
    path("setup/rooms/new/", setup_views.setup_room_create, name="setup_room_create"),
    path("setup/rooms/<int:pk>/", setup_views.setup_room_edit, name="setup_room_edit"),
    path(
        "setup/rooms/<int:pk>/deactivate/",
        setup_views.setup_room_deactivate,
        name="setup_room_deactivate",
    ),
    path("setup/session-types/", setup_views.setup_session_types, name="setup_session_types"),
    path(
        "setup/session-types/new/",
        setup_views.setup_session_type_create,
        name="setup_session_type_create",
    ),
    path(
        "setup/session-types/<int:pk>/",
        setup_views.setup_session_type_edit,
        name="setup_session_type_edit",
    ),
    path("setup/staff/", setup_views.setup_staff, name="setup_staff"),
    path("setup/staff/new/", setup_views.setup_staff_create, name="setup_staff_create"),
    path("setup/staff/<int:pk>/", setup_views.setup_staff_edit, name="setup_staff_edit"),
    path(
        "setup/staff/<int:pk>/deactivate/",
        setup_views.setup_staff_deactivate,
        name="setup_staff_deactivate",
    ),
    path(
        "setup/staff/<int:pk>/reactivate/",
        setup_views.setup_staff_reactivate,
        name="setup_staff_reactivate",
    ),
    path("setup/staff/<int:pk>/hours/", setup_views.setup_staff_hours, name="setup_staff_hours"),
    path(
        "setup/staff/<int:pk>/exceptions/new/",
        setup_views.setup_exception_add,
        name="setup_exception_add",
    ),
    path(
        "setup/staff/<int:pk>/exceptions/<int:exception_pk>/delete/",
        setup_views.setup_exception_delete,
        name="setup_exception_delete",
    ),
]
