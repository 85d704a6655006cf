"""HTTP contract of the clinical screens: roles, private photo URLs, audit of every page view,
what the front desk sees (the other topics have their own test_*_views.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical import urls as clinical_urls
from treatments.clinical.models import (
    ClinicalPhoto,
    Consultation,
    ScreeningRule,
)
from treatments.clinical.selectors import consent_text_current
from treatments.clinical.services.photos import photo_upload
from treatments.clinical.services.reactions import reaction_report
from treatments.clinical.services.records import record_product_add, record_save

from .factories import make_screening, png_bytes, record_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(session, ready, lot, practitioner_profile, face):
    """One of everything, so every clinical URL has something to point at."""
    user = practitioner_profile.user
    patient = session.patient
    record = record_save(session=session, by=user, data=record_data())
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    photo = photo_upload(
        session=session,
        stage="before",
        zone="cheeks",
        view="frontal",
        upload=SimpleUploadedFile("a.png", png_bytes()),
        by=user,
    )
    reaction = reaction_report(
        session=session,
        patient=patient,
        type="bruising",
        severity="mild",
        onset=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        description="small bruise",
        source="practitioner",
        reported_by=user,
    )
    consultation = Consultation.objects.create(
        patient=patient,
        practitioner=user,
        skin_type="dry",
        fitzpatrick=2,
        hydration="low",
        elasticity="moderate",
        sensitivity="low",
        concerns=["rejuvenation"],
    )
    return {
        "patient_pk": patient.pk,
        "session_pk": session.pk,
        "usage_pk": usage.pk,
        "text_pk": consent_text_current(session_type=face).pk,
        "consultation": consultation.pk,
        "screening": ready[0].pk,
        "reaction": reaction.pk,
        "signature_key": ready[1].key,
        "photo_key": photo.key,
        "rule": ScreeningRule.objects.get(code="keloid").pk,
    }


PK_FOR = {
    "consultation_detail": "consultation",
    "consultation_edit": "consultation",
    "consultation_sign": "consultation",
    "consultation_addendum": "consultation",
    "screening_detail": "screening",
    "reaction_detail": "reaction",
    "reaction_acknowledge": "reaction",
    "screening_rule_edit": "rule",
}
MANAGER_ONLY = {"consent_texts", "screening_rules", "screening_rule_create", "screening_rule_edit"}
KEY_FOR = {
    "consent_signature": "signature_key",
    "consent_signature_image": "signature_key",
    "photo_file": "photo_key",
}


def all_clinical_urls(world):
    urls = []
    for pattern in clinical_urls.urlpatterns:
        name = pattern.name
        params = set(pattern.pattern.converters)
        kwargs = {}
        for param in params:
            if param == "pk":
                kwargs["pk"] = world[PK_FOR[name]]
            elif param == "key":
                kwargs["key"] = world[KEY_FOR[name]]
            else:
                kwargs[param] = world[param]
        urls.append((name, reverse(f"clinical:{name}", kwargs=kwargs)))
    return urls


def test_every_clinical_view_declares_clinical_or_management_roles():
    for pattern in clinical_urls.urlpatterns:
        roles = pattern.callback.access_roles
        assert roles, pattern.name
        assert "Front desk" not in {str(r) for r in roles}, pattern.name
    assert reverse("clinical:dashboard") == "/clinical/dashboard/"


def test_photo_urls_use_random_keys_and_unknown_keys_are_404(world, practitioner):
    photo = ClinicalPhoto.objects.get()
    url = reverse("clinical:photo_file", kwargs={"key": photo.key})
    assert url == f"/clinical/photos/{photo.key}/"
    assert len(photo.image.name.rsplit("/", 1)[1]) == 36  # uuid4 hex + ".jpg"
    other = reverse("clinical:photo_file", kwargs={"key": "00000000-0000-4000-8000-000000000000"})
    assert practitioner.get(other).status_code == 404


def test_photo_file_is_served_privately_and_audited(world, practitioner, practitioner_profile):
    photo = ClinicalPhoto.objects.get()
    response = practitioner.get(reverse("clinical:photo_file", kwargs={"key": photo.key}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert AuditEntry.objects.filter(
        actor=practitioner_profile.user, action="download", object_type="clinicalphoto"
    ).exists()


# Blank forms show no clinical content (the consent form shows the clinic's text only).
BLANK_FORMS = {"consultation_create", "screening_create", "consent_sign", "reaction_create"}


def test_every_page_view_writes_an_audit_entry(world, practitioner):
    for name, url in all_clinical_urls(world):
        before = AuditEntry.objects.count()
        response = practitioner.get(url)
        if response.status_code == 405 or name in BLANK_FORMS or name in MANAGER_ONLY:
            continue
        assert AuditEntry.objects.count() == before + 1, name


def test_audit_entries_hold_no_clinical_text(world, practitioner):
    practitioner.get(reverse("clinical:patient", kwargs={"patient_pk": world["patient_pk"]}))
    for entry in AuditEntry.objects.all():
        assert "bruise" not in str(vars(entry))


def test_flags_for_another_patient_do_not_leak(world):
    other = PatientFactory()
    assert AuditEntry.objects.filter(patient=other).count() == 0


def test_the_front_desk_sees_flag_labels_on_the_patient_page_and_nothing_clinical(
    patient, face, practitioner_profile, front_desk, practitioner
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    url = reverse("patients:patient_detail", args=[patient.pk])
    page = front_desk.get(url).content.decode()
    assert "consent missing" in page
    assert "do not book: see practitioner" in page
    assert "pregnan" not in page.lower()
    assert reverse("clinical:patient", kwargs={"patient_pk": patient.pk}) not in page
    assert reverse("clinical:patient", kwargs={"patient_pk": patient.pk}) in (
        practitioner.get(url).content.decode()
    )


def test_the_clinical_menu_is_shown_to_clinical_roles_only(practitioner, front_desk, clinic):
    dashboard = reverse("clinical:dashboard")
    assert dashboard in practitioner.get(reverse("patients:patient_list")).content.decode()
    assert dashboard not in front_desk.get(reverse("patients:patient_list")).content.decode()
