from django.urls import path

from . import patient_links, views

app_name = "messaging"
urlpatterns = [
    # Staff
    path("outbox/", views.outbox, name="outbox"),
    path("patients/<int:patient_id>/", views.patient_messages, name="patient_messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
    # Patients' signed links (no login)
    path("confirm/<str:token>/", patient_links.link_confirm, name="link_confirm"),
    path("cancel/<str:token>/", patient_links.link_cancel, name="link_cancel"),
    path("reaction/<str:token>/", patient_links.link_reaction, name="link_reaction"),
    path("book/<str:token>/", patient_links.link_book, name="link_book"),
    path("unsubscribe/<str:token>/", patient_links.link_unsubscribe, name="link_unsubscribe"),
]
