"""Nothing a patient's record depends on can be deleted from the admin; plan products stay."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.urls import reverse

from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.clinical.models import ClinicalSettings, ConsentText, ScreeningRule
from treatments.clinical.services.consultation import ConsultationData, consultation_save
from treatments.courses.models import Course, Protocol
from treatments.dataprotection.models import ErasureRequest
from treatments.models import Session
from treatments.products.models import Lot, LotUsage, Product
from treatments.products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

NO_DELETE = [
    Patient,
    Product,
    Lot,
    LotUsage,
    Protocol,
    Course,
    Session,
    ClinicalSettings,
    ScreeningRule,
    ConsentText,
    ErasureRequest,
]


@pytest.mark.parametrize("model", NO_DELETE, ids=lambda m: m.__name__)
def test_the_admin_cannot_delete_one_or_many(rf, admin_user, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_admin_delete_page_of_a_patient_is_refused(admin_client, full):
    url = reverse("admin:patients_patient_delete", args=[full.patient.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Patient.objects.filter(pk=full.patient.pk).exists()


def test_course_steps_cannot_be_deleted_inline(rf, admin_user):
    course_admin = admin.site._registry[Course]
    request = rf.get("/")
    request.user = admin_user
    assert all(not inline.can_delete for inline in course_admin.get_inline_instances(request))


def test_a_product_in_a_consultation_plan_cannot_be_deleted(clinic, practitioner_profile):
    product = ProductFactory()
    consultation = consultation_save(
        patient=PatientFactory(),
        by=practitioner_profile.user,
        data=ConsultationData(
            skin_type="dry",
            fitzpatrick=2,
            hydration="low",
            elasticity="low",
            sensitivity="low",
            concerns=["rejuvenation"],
            plan_products=[product],
        ),
    )
    with pytest.raises(ProtectedError):
        product.delete()
    assert list(consultation.plan_products.all()) == [product]
