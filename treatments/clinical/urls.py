from django.urls import path

from .views import consent, consultation, overview, photos, reactions, records, screening, today

app_name = "clinical"
urlpatterns = [
    path("dashboard/", overview.dashboard, name="dashboard"),
    path("today/", today.today, name="today"),
    path("patients/<int:patient_pk>/", overview.patient_clinical, name="patient"),
    path(
        "patients/<int:patient_pk>/booking-hold/lift/",
        overview.booking_hold_lift_view,
        name="booking_hold_lift",
    ),
    # Consultation
    path(
        "patients/<int:patient_pk>/consultations/new/",
        consultation.consultation_create,
        name="consultation_create",
    ),
    path("consultations/<int:pk>/", consultation.consultation_detail, name="consultation_detail"),
    path("consultations/<int:pk>/edit/", consultation.consultation_edit, name="consultation_edit"),
    path(
        "consultations/<int:pk>/sign/",
        consultation.consultation_sign_view,
        name="consultation_sign",
    ),
    path(
        "consultations/<int:pk>/addenda/",
        consultation.consultation_addendum,
        name="consultation_addendum",
    ),
    # Screening
    path(
        "patients/<int:patient_pk>/screenings/new/",
        screening.screening_create,
        name="screening_create",
    ),
    path("screenings/<int:pk>/", screening.screening_detail, name="screening_detail"),
    # Consent
    path("patients/<int:patient_pk>/consent/", consent.consent_overview, name="consent_overview"),
    path(
        "patients/<int:patient_pk>/consent/<int:text_pk>/sign/",
        consent.consent_sign_view,
        name="consent_sign",
    ),
    path(
        "patients/<int:patient_pk>/photo-consent/",
        consent.photo_consent_change,
        name="photo_consent_change",
    ),
    path("signatures/<str:key>/", consent.consent_signature_detail, name="consent_signature"),
    path(
        "signatures/<str:key>/image/",
        consent.consent_signature_image,
        name="consent_signature_image",
    ),
    path("consent-texts/", consent.consent_texts, name="consent_texts"),
    path("screening-rules/", screening.screening_rules, name="screening_rules"),
    path("screening-rules/new/", screening.screening_rule_edit, name="screening_rule_create"),
    path("screening-rules/<int:pk>/", screening.screening_rule_edit, name="screening_rule_edit"),
    # Session record
    path("sessions/<int:session_pk>/record/", records.record, name="record"),
    path("sessions/<int:session_pk>/record/draft/", records.record_draft, name="record_draft"),
    path(
        "sessions/<int:session_pk>/record/products/", records.record_product, name="record_product"
    ),
    path(
        "sessions/<int:session_pk>/record/products/<int:usage_pk>/remove/",
        records.record_product_delete,
        name="record_product_delete",
    ),
    path("sessions/<int:session_pk>/record/sign/", records.record_sign_view, name="record_sign"),
    path(
        "sessions/<int:session_pk>/record/addenda/", records.record_addendum, name="record_addendum"
    ),
    # Photos
    path("sessions/<int:session_pk>/photos/", photos.photos, name="photos"),
    path("photos/<str:key>/", photos.photo_file, name="photo_file"),
    path("patients/<int:patient_pk>/photos/compare/", photos.photo_compare, name="photo_compare"),
    # Reactions
    path(
        "sessions/<int:session_pk>/reactions/new/",
        reactions.reaction_create,
        name="reaction_create",
    ),
    path("reactions/<int:pk>/", reactions.reaction_detail, name="reaction_detail"),
    path(
        "reactions/<int:pk>/acknowledge/",
        reactions.reaction_acknowledge_view,
        name="reaction_acknowledge",
    ),
]
