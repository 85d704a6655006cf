import logging

import pytest
from django.contrib import admin
from django.urls import reverse

from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_patients_and_consent_history_are_in_the_admin(admin_client, clinic):
    patient = PatientFactory()
    patient_consent_set(patient=patient, kind="marketing", given=True, by=None)
    assert admin_client.get(reverse("admin:patients_patient_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:patients_patient_change", args=[patient.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:patients_consentchange_changelist")).status_code == 200


def test_consent_history_cannot_be_added_changed_or_deleted_in_the_admin(rf, admin_user):
    model_admin = admin.site._registry[ConsentChange]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_saving_a_patient_in_the_admin_keeps_phone_digits_in_step(admin_client, clinic):
    patient = PatientFactory(phone="+44 7700 900001")
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": patient.email,
        "phone": "020 7946 0958",
        "address": "",
        "consent_changes-TOTAL_FORMS": "0",
        "consent_changes-INITIAL_FORMS": "0",
        "consent_changes-MIN_NUM_FORMS": "0",
        "consent_changes-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(reverse("admin:patients_patient_change", args=[patient.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Patient.objects.get(pk=patient.pk).phone_digits == "+442079460958"


def test_adding_a_patient_in_the_admin_goes_through_the_patient_service(
    admin_client, admin_user, clinic, caplog
):
    data = {
        "first_name": "  Ada ",
        "last_name": " Lovelace",
        "date_of_birth": "1985-12-10",
        "email": "ada@example.org",
        "phone": "+44 (0)20 7946 0958",
        "address": "",
        "consent_changes-TOTAL_FORMS": "0",
        "consent_changes-INITIAL_FORMS": "0",
        "consent_changes-MIN_NUM_FORMS": "0",
        "consent_changes-MAX_NUM_FORMS": "1000",
    }
    with caplog.at_level(logging.INFO, logger="patients.services"):
        response = admin_client.post(reverse("admin:patients_patient_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    patient = Patient.objects.get()
    assert f"patient {patient.pk} registered by user {admin_user.pk}" in caplog.text
    assert (patient.first_name, patient.last_name) == ("Ada", "Lovelace")
    assert patient.phone_digits == "+442079460958"
    assert patient.created_by == admin_user
    assert response.url == reverse("admin:patients_patient_changelist")
