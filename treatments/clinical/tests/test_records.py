"""The session record and its safety rules: each test tries to break one rule."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from treatments.clinical.errors import ClinicalError, RecordLocked, SafetyRefusal
from treatments.clinical.models import Addendum, ScreeningRule, SessionRecord
from treatments.clinical.services.consent import consent_text_publish
from treatments.clinical.services.records import (
    addendum_add,
    record_product_add,
    record_product_remove,
    record_save,
    record_sign,
)
from treatments.models import Session
from treatments.products.models import LotUsage
from treatments.products.tests.factories import LotFactory
from treatments.tests.factories import SessionFactory

from .factories import make_consent, make_photo_consent, make_screening, record_data

pytestmark = pytest.mark.django_db


def _nothing_saved(session):
    assert not SessionRecord.objects.filter(session=session).exists()
    assert not LotUsage.objects.filter(session=session).exists()


def test_a_complete_record_saves_signs_and_completes_the_session(
    session, ready, lot, practitioner_profile
):
    user = practitioner_profile.user
    record = record_save(session=session, by=user, data=record_data(notes="Went well"))
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("2.5"), by=user)
    assert usage.volume_ml == Decimal("2.5")
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("47.50")
    ended = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=2)
    record = record_sign(record=record, by=user, ended_at=ended)
    assert record.is_signed and record.signed_by == user
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert session.completed_at == ended
    assert record.screening == ready[0] and record.consent == ready[1]
    assert record.spacing_mm == 10
    actions = list(
        AuditEntry.objects.filter(object_type="sessionrecord").values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "sign", "update"]


# --- products and lots ---------------------------------------------------------------


@pytest.mark.parametrize(
    "product_change",
    [{"active": False}, {"registration_number": ""}, {"registration_body": ""}],
    ids=["inactive", "no-registration-number", "no-registration-body"],
)
def test_it_refuses_an_unregistered_or_inactive_product(
    session, ready, lot, practitioner_profile, product_change
):
    user = practitioner_profile.user
    record = record_save(session=session, by=user, data=record_data())
    for name, value in product_change.items():
        setattr(lot.product, name, value)
    lot.product.save()
    with pytest.raises(DomainError) as err:
        record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    assert "cannot be used" in err.value.message or "registration" in err.value.message
    assert not LotUsage.objects.exists()
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == lot.quantity_received_ml


def test_it_refuses_an_expired_lot(session, ready, practitioner_profile):
    user = practitioner_profile.user
    expired = LotFactory(expiry_date=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2))
    record = record_save(session=session, by=user, data=record_data())
    with pytest.raises(DomainError, match="expired"):
        record_product_add(record=record, lot=expired, volume_ml=Decimal("1"), by=user)
    assert not LotUsage.objects.exists()


def test_it_refuses_to_sign_without_a_product(session, ready, practitioner_profile):
    record = record_save(session=session, by=practitioner_profile.user, data=record_data())
    with pytest.raises(ClinicalError, match="product"):
        record_sign(record=record, by=practitioner_profile.user)
    record.refresh_from_db()
    assert not record.is_signed


# --- qualification ---------------------------------------------------------------------


def test_a_therapist_cannot_record_deep_technique(
    patient, scalp_superficial, therapist_profile, room, practitioner_profile
):
    session = SessionFactory(
        patient=patient,
        session_type=scalp_superficial,
        practitioner=therapist_profile,
        room=room,
        starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
    )
    make_screening(patient, practitioner_profile.user)
    make_consent(patient, scalp_superficial, practitioner_profile.user)
    with pytest.raises(SafetyRefusal, match="medical practitioner") as err:
        record_save(
            session=session,
            by=therapist_profile.user,
            data=record_data(depth="deep", zones=["scalp"]),
        )
    assert err.value.field == "depth"
    _nothing_saved(session)
    record = record_save(
        session=session, by=therapist_profile.user, data=record_data(zones=["scalp"])
    )
    assert record.depth == "superficial"


def test_a_therapist_cannot_record_a_medical_only_session_type(session, ready, therapist_profile):
    assert session.session_type.medical_only
    with pytest.raises(SafetyRefusal, match="medical-only"):
        record_save(session=session, by=therapist_profile.user, data=record_data())
    _nothing_saved(session)


# --- screening -------------------------------------------------------------------------


def test_it_refuses_an_absolute_contraindication(session, patient, face, practitioner_profile):
    user = practitioner_profile.user
    make_screening(patient, user, pregnancy="")
    make_consent(patient, face, user)
    with pytest.raises(SafetyRefusal, match="Absolute contraindication"):
        record_save(session=session, by=user, data=record_data(risk_reason="I accept"))
    _nothing_saved(session)


def test_it_refuses_a_relative_contraindication_without_a_reason(
    session, patient, face, practitioner_profile
):
    user = practitioner_profile.user
    make_screening(patient, user, keloid="")
    make_consent(patient, face, user)
    with pytest.raises(SafetyRefusal, match="Write why") as err:
        record_save(session=session, by=user, data=record_data(risk_reason="   "))
    assert err.value.field == "risk_reason"
    _nothing_saved(session)
    record = record_save(
        session=session,
        by=user,
        data=record_data(risk_reason="Small area, no history of keloid on the face"),
    )
    assert record.risk_reason.startswith("Small area")


def test_it_refuses_a_product_with_an_ingredient_the_patient_is_allergic_to(
    session, patient, face, practitioner_profile, lidocaine_lot, lot
):
    user = practitioner_profile.user
    make_screening(patient, user, **{"lidocaine-allergy": ""})
    make_consent(patient, face, user)
    record = record_save(session=session, by=user, data=record_data())
    with pytest.raises(SafetyRefusal, match="Numbing Cocktail: Absolute"):
        record_product_add(record=record, lot=lidocaine_lot, volume_ml=Decimal("1"), by=user)
    assert not LotUsage.objects.exists()
    record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)


def test_it_refuses_a_stale_screening(session, patient, face, practitioner_profile):
    user = practitioner_profile.user
    make_screening(patient, user, taken_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200))
    make_consent(patient, face, user)
    with pytest.raises(SafetyRefusal, match="expired"):
        record_save(session=session, by=user, data=record_data())
    _nothing_saved(session)


def test_it_refuses_a_session_without_any_screening(session, patient, face, practitioner_profile):
    make_consent(patient, face, practitioner_profile.user)
    with pytest.raises(SafetyRefusal, match="No screening"):
        record_save(session=session, by=practitioner_profile.user, data=record_data())
    _nothing_saved(session)


def test_it_refuses_an_unconfirmed_screening(session, ready, practitioner_profile):
    with pytest.raises(SafetyRefusal, match="anything has changed") as err:
        record_save(
            session=session,
            by=practitioner_profile.user,
            data=record_data(screening_reconfirmed=False),
        )
    assert err.value.field == "screening_reconfirmed"
    _nothing_saved(session)


# --- consent ---------------------------------------------------------------------------


def test_it_refuses_missing_treatment_consent(session, patient, practitioner_profile):
    make_screening(patient, practitioner_profile.user)
    with pytest.raises(SafetyRefusal, match="not signed consent"):
        record_save(session=session, by=practitioner_profile.user, data=record_data())
    _nothing_saved(session)


def test_it_refuses_consent_to_an_older_version(
    session, ready, face, practitioner_profile, manager_user
):
    consent_text_publish(session_type=face, title="Face v2", body="New risks", by=manager_user)
    with pytest.raises(SafetyRefusal, match="sign the new version"):
        record_save(session=session, by=practitioner_profile.user, data=record_data())
    _nothing_saved(session)


# --- electric devices ------------------------------------------------------------------


def test_it_refuses_an_electric_device_with_a_pacemaker(
    session, patient, face, practitioner_profile
):
    user = practitioner_profile.user
    make_screening(patient, user, pacemaker="")
    make_consent(patient, face, user)
    with pytest.raises(SafetyRefusal, match="pacemaker") as err:
        record_save(session=session, by=user, data=record_data(technique="electric"))
    assert err.value.field == "technique"
    _nothing_saved(session)
    assert record_save(session=session, by=user, data=record_data(technique="syringe"))


def test_the_pacemaker_refusal_holds_even_if_the_rule_is_softened(
    session, patient, face, practitioner_profile
):
    user = practitioner_profile.user
    make_screening(patient, user, pacemaker="")
    make_consent(patient, face, user)
    ScreeningRule.objects.filter(code="pacemaker").update(severity="info")
    with pytest.raises(SafetyRefusal, match="pacemaker"):
        record_save(session=session, by=user, data=record_data(technique="electric"))
    _nothing_saved(session)


# --- locking and addenda ---------------------------------------------------------------


def test_immediate_reactions_must_be_stated_before_signing(
    session, ready, lot, practitioner_profile
):
    user = practitioner_profile.user
    record = record_save(session=session, by=user, data=record_data(reactions_none=False))
    record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    with pytest.raises(ClinicalError, match="immediate reactions"):
        record_sign(record=record, by=user)
    session.refresh_from_db()
    assert session.status == Session.Status.ARRIVED


def test_a_signed_record_is_locked_and_takes_addenda_from_anyone(
    session, ready, lot, practitioner_profile, therapist_profile
):
    user = practitioner_profile.user
    record = record_save(session=session, by=user, data=record_data())
    record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    record_sign(record=record, by=user)
    with pytest.raises(RecordLocked, match="addendum"):
        record_save(session=session, by=user, data=record_data(notes="changed"))
    with pytest.raises(RecordLocked):
        record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    addendum = addendum_add(record=record, by=therapist_profile.user, text="Patient called: fine")
    assert addendum.author == therapist_profile.user
    assert Addendum.objects.filter(record=record).count() == 1
    record.refresh_from_db()
    assert record.notes == ""


def test_another_practitioner_cannot_edit_the_record(
    session, ready, practitioner_profile, manager_user
):
    record_save(session=session, by=practitioner_profile.user, data=record_data())
    with pytest.raises(RecordLocked, match="only they can change it"):
        record_save(session=session, by=manager_user, data=record_data(notes="mine now"))
    assert SessionRecord.objects.get(session=session).notes == ""


def test_a_draft_takes_no_addendum(session, ready, practitioner_profile):
    record = record_save(session=session, by=practitioner_profile.user, data=record_data())
    with pytest.raises(ClinicalError):
        addendum_add(record=record, by=practitioner_profile.user, text="x")


def test_a_product_line_can_be_removed_from_a_draft_and_stock_comes_back(
    session, ready, lot, practitioner_profile
):
    user = practitioner_profile.user
    record = record_save(session=session, by=user, data=record_data())
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("3"), by=user)
    record_product_remove(record=record, usage=usage, by=user)
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == lot.quantity_received_ml


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"zones": []}, "zones"),
        ({"zones": ["elbow"]}, "zones"),
        ({"technique": "laser"}, "technique"),
        ({"spacing_mm": 0}, "spacing_mm"),
        ({"anaesthetic_used": True, "anaesthetic_product": ""}, "anaesthetic_product"),
        ({"laser_on": dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)}, "laser_on"),
        ({"reactions_none": True, "immediate_reactions": "redness"}, "immediate_reactions"),
    ],
)
def test_it_refuses_bad_input_with_a_field_message(
    session, ready, practitioner_profile, overrides, field
):
    with pytest.raises(ClinicalError) as err:
        record_save(session=session, by=practitioner_profile.user, data=record_data(**overrides))
    assert err.value.field == field
    _nothing_saved(session)


def test_a_cancelled_session_takes_no_record(session, ready, practitioner_profile):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    session.refresh_from_db()
    with pytest.raises(ClinicalError, match="cancelled"):
        record_save(session=session, by=practitioner_profile.user, data=record_data())


def test_combined_treatment_dates_are_judged_on_the_clinic_day_not_the_utc_day(
    patient, face, practitioner_profile, room
):
    # 00:30 on 11 July in London is still 10 July in UTC; the service may run outside a request.
    with time_machine.travel(dt.datetime(2026, 7, 10, 23, 30, tzinfo=dt.UTC), tick=False):
        user = practitioner_profile.user
        make_screening(patient, user)
        make_consent(patient, face, user)
        make_photo_consent(patient, user)
        session = SessionFactory(
            patient=patient,
            session_type=face,
            practitioner=practitioner_profile,
            room=room,
            starts_at=dt.datetime(2026, 7, 10, 23, 0, tzinfo=dt.UTC),
            status=Session.Status.ARRIVED,
        )
        record = record_save(
            session=session, by=user, data=record_data(peel_on=dt.date(2026, 7, 11))
        )
        assert record.peel_on == dt.date(2026, 7, 11)
        with pytest.raises(ClinicalError) as refused:
            record_save(session=session, by=user, data=record_data(peel_on=dt.date(2026, 7, 12)))
        assert refused.value.field == "peel_on"
