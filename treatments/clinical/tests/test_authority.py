"""Clinical authority: the qualification, not the role, decides who writes clinical content.

A clinic manager without a clinical qualification reads clinical pages but every clinical write
service refuses them, with nothing saved and nothing audited; the pages do not offer the action.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from treatments.clinical.errors import NotQualified
from treatments.clinical.models import (
    Addendum,
    ClinicalPhoto,
    ConsentSignature,
    ConsentText,
    Consultation,
    PhotoConsent,
    Reaction,
    Screening,
    SessionRecord,
)
from treatments.clinical.selectors import consent_text_current
from treatments.clinical.services.consent import consent_sign, photo_consent_set
from treatments.clinical.services.consultation import (
    ConsultationData,
    consultation_save,
    consultation_sign,
)
from treatments.clinical.services.photos import photo_upload
from treatments.clinical.services.reactions import reaction_report, reaction_update
from treatments.clinical.services.records import (
    addendum_add,
    record_product_add,
    record_product_remove,
    record_save,
    record_sign,
)
from treatments.clinical.services.screening import screening_record
from treatments.models import Session, StaffProfile
from treatments.products.models import Lot, LotUsage
from treatments.tests.factories import SessionFactory

from .factories import answers_all_no, png_bytes, record_data, signature_data_url

CONSULTATION = ConsultationData(
    skin_type="dry",
    fitzpatrick=3,
    hydration="low",
    elasticity="moderate",
    sensitivity="low",
    concerns=["rejuvenation"],
    risks_explained=True,
    recommendation="Hyaluronic acid cocktail",
)


@pytest.fixture
def documents(session, ready, lot, practitioner_profile):
    """One of each clinical document, written by the practitioner: a signed record with a
    product line, a draft record's line, a draft consultation and a staff-recorded reaction."""
    doctor = practitioner_profile.user
    record = record_save(session=session, by=doctor, data=record_data())
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=doctor)
    consultation = consultation_save(patient=session.patient, by=doctor, data=CONSULTATION)
    reaction = reaction_report(
        session=session,
        patient=session.patient,
        type="bruising",
        severity="mild",
        onset=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        description="",
        source="practitioner",
        reported_by=doctor,
    )
    return {"record": record, "usage": usage, "consultation": consultation, "reaction": reaction}


def _current_text(session_type_id: int) -> ConsentText:
    text = consent_text_current(session_type=session_type_id)
    assert text is not None
    return text


WRITES = {
    "screening_record": lambda d, by: screening_record(
        patient=d["record"].patient, by=by, answers=answers_all_no()
    ),
    "consultation_save": lambda d, by: consultation_save(
        patient=d["record"].patient, by=by, data=CONSULTATION
    ),
    "consultation_sign": lambda d, by: consultation_sign(consultation=d["consultation"], by=by),
    "consent_sign": lambda d, by: consent_sign(
        patient=d["record"].patient,
        text=_current_text(d["record"].session.session_type_id),
        typed_name="Jane Doe",
        signature_data_url=signature_data_url(),
        by=by,
    ),
    "photo_consent_set": lambda d, by: photo_consent_set(
        patient=d["record"].patient, purpose="clinical", given=False, by=by
    ),
    "photo_upload": lambda d, by: photo_upload(
        session=d["record"].session,
        stage="before",
        zone="cheeks",
        view="front",
        upload=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
        by=by,
    ),
    "reaction_report": lambda d, by: reaction_report(
        session=d["record"].session,
        patient=d["record"].patient,
        type="swelling",
        severity="mild",
        onset=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
        description="",
        source="practitioner",
        reported_by=by,
    ),
    "reaction_update": lambda d, by: reaction_update(
        reaction=d["reaction"],
        by=by,
        severity="moderate",
        action_taken="",
        resolved_on=None,
        resolution="",
    ),
    "record_save": lambda d, by: record_save(
        session=d["record"].session, by=by, data=record_data(notes="mine")
    ),
    "record_product_add": lambda d, by: record_product_add(
        record=d["record"], lot=d["usage"].lot, volume_ml=Decimal("1"), by=by
    ),
    "record_product_remove": lambda d, by: record_product_remove(
        record=d["record"], usage=d["usage"], by=by
    ),
    "record_sign": lambda d, by: record_sign(record=d["record"], by=by),
    "addendum_add (record)": lambda d, by: addendum_add(
        by=by, text="Called: fine", record=d["signed"]
    ),
}


def _counts():
    return [
        model.objects.count()
        for model in (
            AuditEntry,
            Screening,
            Consultation,
            ConsentSignature,
            PhotoConsent,
            ClinicalPhoto,
            Reaction,
            SessionRecord,
            LotUsage,
            Addendum,
        )
    ] + [
        list(Lot.objects.values_list("quantity_remaining_ml", flat=True)),
        list(SessionRecord.objects.values_list("notes", "signed_at")),
        list(Reaction.objects.values_list("severity", flat=True)),
        list(Consultation.objects.values_list("signed_at", flat=True)),
    ]


@pytest.mark.parametrize("write", list(WRITES))
def test_a_non_clinical_manager_is_refused_every_clinical_write(
    write, documents, manager_user, practitioner_profile, face, patient, session
):
    # A second, signed record for the addendum case (a session's first record stays a draft).
    documents["signed"] = _second_signed_record(patient, face, practitioner_profile)
    assert manager_user.staff_profile.qualification == StaffProfile.Qualification.NONE
    before = _counts()
    with pytest.raises(NotQualified, match="Only clinically qualified staff"):
        WRITES[write](documents, manager_user)
    assert _counts() == before


def _second_signed_record(patient, face, practitioner_profile):
    other = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        starts_at=dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=3),
        status=Session.Status.ARRIVED,
    )
    record = record_save(session=other, by=practitioner_profile.user, data=record_data())
    lot = Lot.objects.first()
    record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=practitioner_profile.user)
    return record_sign(record=record, by=practitioner_profile.user)


def test_a_manager_who_is_also_a_doctor_may_write(documents, manager_user):
    StaffProfile.objects.filter(user=manager_user).update(
        qualification=StaffProfile.Qualification.DOCTOR,
        registration_body="GMC",
        registration_number="GMC1",
    )
    consultation = consultation_save(
        patient=documents["record"].patient, by=manager_user, data=CONSULTATION
    )
    assert consultation.practitioner == manager_user


def test_a_user_without_a_staff_profile_is_refused(documents, outsider_user):
    with pytest.raises(NotQualified):
        photo_consent_set(
            patient=documents["record"].patient, purpose="clinical", given=True, by=outsider_user
        )


def test_a_patient_self_report_needs_no_staff_author(session, ready):
    reaction = reaction_report(
        session=session,
        patient=session.patient,
        type="bruising",
        severity="mild",
        onset=dt.datetime.now(dt.UTC),
        description="",
        source="patient",
    )
    assert reaction.reported_by is None


def test_a_non_clinical_manager_reads_the_pages_without_the_write_actions(
    documents, manager, practitioner, session, patient
):
    pages = {
        reverse("clinical:patient", kwargs={"patient_pk": patient.pk}): [
            "New screening",
            "New consultation",
            ">Reaction<",
        ],
        reverse("clinical:record", kwargs={"session_pk": session.pk}): [
            "Save record",
            "Add product",
            "Sign record",
        ],
        reverse("clinical:consultation_detail", kwargs={"pk": documents["consultation"].pk}): [
            ">Edit<",
            ">Sign<",
        ],
        reverse("clinical:photos", kwargs={"session_pk": session.pk}): [">Upload<"],
        reverse("clinical:consent_overview", kwargs={"patient_pk": patient.pk}): [
            "Take consent",
            ">Record<",
        ],
        reverse("clinical:reaction_detail", kwargs={"pk": documents["reaction"].pk}): [">Save<"],
    }
    for url, actions in pages.items():
        as_doctor = practitioner.get(url).content.decode()
        as_manager = manager.get(url)
        assert as_manager.status_code == 200, url
        text = as_manager.content.decode()
        for action in actions:
            assert action in as_doctor, (url, action)
            assert action not in text, (url, action)
        assert "no clinical qualification" in text, url


def test_a_non_clinical_manager_posting_a_screening_reads_the_refusal(manager, patient):
    data = {f"rule_{pk}": "yes" if yes else "no" for pk, (yes, _d) in answers_all_no().items()}
    response = manager.post(
        reverse("clinical:screening_create", kwargs={"patient_pk": patient.pk}), data
    )
    assert response.status_code in (200, 400)
    assert "Only clinically qualified staff" in response.content.decode()
    assert not Screening.objects.filter(patient=patient).exists()
