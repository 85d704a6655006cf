from django.urls import path

from . import views

app_name = "dataprotection"
urlpatterns = [
    path("patients/<int:pk>/export/", views.patient_export, name="patient_export"),
    path("patients/<int:pk>/erasure/", views.patient_erasure, name="patient_erasure"),
]
