from django.urls import path

from . import link_views, views

app_name = "messaging"
urlpatterns = [
    # Staff
    path("outbox/", views.outbox, name="outbox"),
    path("patients/<int:patient_id>/", views.patient_messages, name="patient_messages"),
    path("messages/<int:pk>/", views.message_detail, name="message_detail"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
    # Patients' signed links (no login)
    path("confirm/<str:token>/", link_views.link_confirm, name="link_confirm"),
    path("cancel/<str:token>/", link_views.link_cancel, name="link_cancel"),
    path("reaction/<str:token>/", link_views.link_reaction, name="link_reaction"),
    path("book/<str:token>/", link_views.link_book, name="link_book"),
    path("unsubscribe/<str:token>/", link_views.link_unsubscribe, name="link_unsubscribe"),
]
