from django.urls import path

from mesoclinic.ratelimit import rate_limited_per_ip

from . import link_views, views

app_name = "messaging"

# Patients' signed links (no login): /m/<action>/<token>/, rate-limited per client address.
LINK_VIEWS = {
    "confirm": link_views.link_confirm,
    "cancel": link_views.link_cancel,
    "reaction": link_views.link_reaction,
    "book": link_views.link_book,
    "unsubscribe": link_views.link_unsubscribe,
    "questionnaire": link_views.link_questionnaire,
}

urlpatterns = [
    # Staff
    path("outbox/", views.outbox, name="outbox"),
    path("patients/<int:patient_id>/", views.patient_messages, name="patient_messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
] + [
    path(f"{action}/<str:token>/", rate_limited_per_ip(view), name=f"link_{action}")
    for action, view in LINK_VIEWS.items()
]
