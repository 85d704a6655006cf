from django.urls import path

from . import views

app_name = "clinical"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("patients/<int:patient_pk>/", views.patient_clinical, name="patient"),
    # Consultation
    path(
        "patients/<int:patient_pk>/consultations/new/",
        views.consultation_create,
        name="consultation_create",
    ),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation_detail"),
    path("consultations/<int:pk>/edit/", views.consultation_edit, name="consultation_edit"),
    path("consultations/<int:pk>/sign/", views.consultation_sign_view, name="consultation_sign"),
    path(
        "consultations/<int:pk>/addenda/",
        views.consultation_addendum,
        name="consultation_addendum",
    ),
    # Screening
    path(
        "patients/<int:patient_pk>/screenings/new/",
        views.screening_create,
        name="screening_create",
    ),
    path("screenings/<int:pk>/", views.screening_detail, name="screening_detail"),
    # Consent
    path("patients/<int:patient_pk>/consent/", views.consent_overview, name="consent_overview"),
    path(
        "patients/<int:patient_pk>/consent/<int:text_pk>/sign/",
        views.consent_sign_view,
        name="consent_sign",
    ),
    path(
        "patients/<int:patient_pk>/photo-consent/",
        views.photo_consent_change,
        name="photo_consent_change",
    ),
    path("signatures/<str:key>/", views.consent_signature_detail, name="consent_signature"),
    path(
        "signatures/<str:key>/image/",
        views.consent_signature_image,
        name="consent_signature_image",
    ),
    path("consent-texts/", views.consent_texts, name="consent_texts"),
    path("screening-rules/", views.screening_rules, name="screening_rules"),
    path("screening-rules/new/", views.screening_rule_edit, name="screening_rule_create"),
    path("screening-rules/<int:pk>/", views.screening_rule_edit, name="screening_rule_edit"),
    # Session record
    path("sessions/<int:session_pk>/record/", views.record, name="record"),
    path("sessions/<int:session_pk>/record/products/", views.record_product, name="record_product"),
    path(
        "sessions/<int:session_pk>/record/products/<int:usage_pk>/remove/",
        views.record_product_delete,
        name="record_product_delete",
    ),
    path("sessions/<int:session_pk>/record/sign/", views.record_sign_view, name="record_sign"),
    path(
        "sessions/<int:session_pk>/record/addenda/", views.record_addendum, name="record_addendum"
    ),
    # Photos
    path("sessions/<int:session_pk>/photos/", views.photos, name="photos"),
    path("photos/<str:key>/", views.photo_file, name="photo_file"),
    path("patients/<int:patient_pk>/photos/compare/", views.photo_compare, name="photo_compare"),
    # Reactions
    path("sessions/<int:session_pk>/reactions/new/", views.reaction_create, name="reaction_create"),
    path("reactions/<int:pk>/", views.reaction_detail, name="reaction_detail"),
]
