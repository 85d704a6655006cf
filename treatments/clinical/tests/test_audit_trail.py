"""Every change of clinical content leaves an audit entry (views are covered in test_views)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from mesoclinic.audit.models import AuditEntry
from treatments.clinical.models import Consultation
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
    record_save,
    record_sign,
)

from .factories import png_bytes, record_data

pytestmark = pytest.mark.django_db


def test_each_change_writes_one_entry_naming_who_whom_and_what(
    session, ready, lot, practitioner_profile
):
    user, patient = practitioner_profile.user, session.patient
    _screening, consent = ready
    consultation = consultation_save(
        patient=patient,
        by=user,
        data=ConsultationData(
            skin_type="dry",
            fitzpatrick=2,
            hydration="low",
            elasticity="moderate",
            sensitivity="low",
            concerns=["rejuvenation"],
            risks_explained=True,
            recommendation="Hydration cocktail",
        ),
    )
    consultation = consultation_save(
        patient=patient,
        by=user,
        consultation=consultation,
        data=ConsultationData(
            skin_type="dry",
            fitzpatrick=3,
            hydration="low",
            elasticity="moderate",
            sensitivity="low",
            concerns=["rejuvenation"],
            risks_explained=True,
            recommendation="Hydration cocktail",
        ),
    )
    consultation_sign(consultation=consultation, by=user)
    addendum_add(consultation=Consultation.objects.get(), by=user, text="Called back")
    record = record_save(session=session, by=user, data=record_data())
    record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    record = record_sign(record=record, by=user)
    addendum_add(record=record, by=user, text="Correction")
    photo = photo_upload(
        session=session,
        stage="after",
        zone="cheeks",
        view="oblique",
        upload=SimpleUploadedFile("x.png", png_bytes()),
        by=user,
    )
    reaction = reaction_report(
        session=session,
        patient=patient,
        type="redness",
        severity="mild",
        onset=dt.datetime.now(dt.UTC),
        description="Red",
        source="practitioner",
        reported_by=user,
    )
    reaction_update(
        reaction=reaction,
        by=user,
        severity="mild",
        action_taken="Cold compress",
        resolved_on=None,
        resolution="",
    )
    trail = list(
        AuditEntry.objects.filter(patient=patient)
        .order_by("id")
        .values_list("object_type", "action")
    )
    assert trail == [
        ("screening", "create"),
        ("consentsignature", "sign"),
        ("photoconsent", "create"),
        ("consultation", "create"),
        ("consultation", "update"),
        ("consultation", "sign"),
        ("consultation", "addendum"),
        ("sessionrecord", "create"),
        ("sessionrecord", "update"),
        ("sessionrecord", "sign"),
        ("sessionrecord", "addendum"),
        ("clinicalphoto", "create"),
        ("reaction", "create"),
        ("reaction", "update"),
    ]
    assert set(AuditEntry.objects.values_list("actor_id", flat=True)) == {user.pk}
    # Files live under MEDIA_ROOT (never static), with random names.
    for stored in (photo.image, consent.signature):
        assert Path(stored.path).is_relative_to(settings.MEDIA_ROOT)
        assert "static" not in stored.name


def test_a_consultation_needs_risks_explained_and_a_recommendation_to_be_signed(
    patient, practitioner_profile
):
    from treatments.clinical.errors import ClinicalError

    consultation = consultation_save(
        patient=patient,
        by=practitioner_profile.user,
        data=ConsultationData(
            skin_type="oily",
            fitzpatrick=5,
            hydration="high",
            elasticity="high",
            sensitivity="moderate",
            concerns=["other"],
            concerns_other="Dull skin",
        ),
    )
    with pytest.raises(ClinicalError) as err:
        consultation_sign(consultation=consultation, by=practitioner_profile.user)
    assert err.value.field == "risks_explained"
    consultation.refresh_from_db()
    assert not consultation.is_signed


def test_a_reaction_cannot_resolve_before_it_started(session, practitioner_profile):
    from treatments.clinical.errors import ClinicalError

    reaction = reaction_report(
        session=session,
        patient=session.patient,
        type="swelling",
        severity="moderate",
        onset=dt.datetime.now(dt.UTC),
        description="",
        source="practitioner",
        reported_by=practitioner_profile.user,
    )
    with pytest.raises(ClinicalError) as err:
        reaction_update(
            reaction=reaction,
            by=practitioner_profile.user,
            severity="mild",
            action_taken="",
            resolved_on=dt.date(2000, 1, 1),
            resolution="",
        )
    assert err.value.field == "resolved_on"
