import datetime as dt

import pytest

from mesoclinic.errors import DomainError, PossibleDuplicate
from patients.models import ConsentChange, Patient, phone_digits
from patients.services import patient_consent_set, patient_create, patient_update
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BORN = dt.date(1985, 3, 14)


def _create(**overrides):
    data = {
        "first_name": "Ann",
        "last_name": "Smith",
        "date_of_birth": BORN,
        "email": "ann.smith@example.test",
        "phone": "+44 7700 900123",
        "address": "1 High Street",
        "created_by": None,
    }
    data.update(overrides)
    return patient_create(**data)


def test_it_registers_a_patient_with_phone_digits():
    patient = _create()
    patient.refresh_from_db()
    assert patient.full_name == "Ann Smith"
    assert patient.phone_digits == "+447700900123"


def test_it_strips_surrounding_spaces():
    patient = _create(first_name="  Ann ", last_name=" Smith  ", email=" a@example.test ")
    patient.refresh_from_db()
    assert (patient.first_name, patient.last_name, patient.email) == (
        "Ann",
        "Smith",
        "a@example.test",
    )


def test_it_records_the_consents_given_at_registration(front_desk_user):
    patient = _create(
        email_reminders_consent=True, marketing_consent=False, created_by=front_desk_user
    )
    patient.refresh_from_db()
    assert patient.email_reminders_consent is True
    assert patient.email_reminders_consent_at is not None
    assert patient.marketing_consent is False
    assert patient.marketing_consent_at is None
    changes = list(patient.consent_changes.all())
    assert [(c.kind, c.given, c.recorded_by) for c in changes] == [
        (ConsentChange.Kind.EMAIL_REMINDERS, True, front_desk_user)
    ]
    assert patient.created_by == front_desk_user


def test_it_warns_of_a_duplicate_by_name_and_birth_date_ignoring_case():
    existing = PatientFactory(first_name="ANN", last_name="smith", date_of_birth=BORN)
    with pytest.raises(PossibleDuplicate) as caught:
        _create(email="other@example.test", phone="")
    assert caught.value.matches == [existing]
    assert "Create anyway" in caught.value.message
    assert Patient.objects.count() == 1


def test_it_does_not_warn_for_the_same_name_with_another_birth_date():
    PatientFactory(first_name="Ann", last_name="Smith", date_of_birth=dt.date(1990, 1, 1))
    _create(email="other@example.test", phone="")
    assert Patient.objects.count() == 2


def test_it_warns_of_a_duplicate_by_email_ignoring_case():
    existing = PatientFactory(email="Ann.Smith@Example.TEST")
    with pytest.raises(PossibleDuplicate) as caught:
        _create(first_name="Someone", last_name="Else", phone="")
    assert caught.value.matches == [existing]


def test_it_warns_of_a_duplicate_by_phone_digits_whatever_the_formatting():
    existing = PatientFactory(phone="+44 (7700) 900-123", phone_digits="+447700900123")
    with pytest.raises(PossibleDuplicate) as caught:
        _create(first_name="Someone", last_name="Else", email="", phone="+447700900123")
    assert caught.value.matches == [existing]


def test_it_lists_every_match_once():
    by_name = PatientFactory(
        first_name="Ann", last_name="Smith", date_of_birth=BORN, email="x@e.test"
    )
    by_email = PatientFactory(email="ann.smith@example.test")
    by_both = PatientFactory(email="ANN.SMITH@example.test", phone_digits="+447700900123")
    with pytest.raises(PossibleDuplicate) as caught:
        _create()
    assert sorted(p.pk for p in caught.value.matches) == sorted(
        [by_name.pk, by_email.pk, by_both.pk]
    )


def test_an_empty_email_or_phone_never_counts_as_a_duplicate():
    PatientFactory(email="", phone="", phone_digits="")
    _create(email="", phone="")
    assert Patient.objects.count() == 2


def test_it_creates_anyway_when_the_duplicate_is_confirmed():
    PatientFactory(first_name="Ann", last_name="Smith", date_of_birth=BORN)
    _create(confirm_duplicate=True)
    assert Patient.objects.filter(first_name="Ann", last_name="Smith").count() == 2


def test_update_keeps_phone_digits_in_step(front_desk_user):
    patient = PatientFactory(phone="+44 7700 900001")
    patient_update(
        patient=patient,
        first_name="Bea",
        last_name="Jones",
        date_of_birth=BORN,
        email="bea@example.test",
        phone="(020) 7946-0958",
        address="",
        by=front_desk_user,
    )
    patient.refresh_from_db()
    assert patient.phone == "(020) 7946-0958"
    assert patient.phone_digits == "+442079460958"
    assert patient.full_name == "Bea Jones"


def test_update_clears_phone_digits_when_the_phone_is_removed(front_desk_user):
    patient = PatientFactory(phone="+44 7700 900001")
    patient_update(
        patient=patient,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        phone="",
        by=front_desk_user,
    )
    patient.refresh_from_db()
    assert patient.phone_digits == ""


def test_consent_withdrawal_updates_the_flag_and_appends_history(front_desk_user):
    patient = PatientFactory(email_reminders_consent=True)
    change = patient_consent_set(
        patient=patient, kind=ConsentChange.Kind.EMAIL_REMINDERS, given=False, by=front_desk_user
    )
    patient.refresh_from_db()
    assert patient.email_reminders_consent is False
    assert patient.email_reminders_consent_at == change.at
    assert (change.given, change.recorded_by, change.source) == (
        False,
        front_desk_user,
        "front desk",
    )


def test_consent_history_keeps_every_change_in_order(front_desk_user):
    patient = PatientFactory(marketing_consent=False)
    for given in (True, False, True):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.MARKETING, given=given, by=front_desk_user
        )
    history = list(patient.consent_changes.order_by("at", "id").values_list("given", flat=True))
    assert history == [True, False, True]
    patient.refresh_from_db()
    assert patient.marketing_consent is True


def test_setting_a_consent_to_its_current_value_records_nothing(front_desk_user):
    patient = PatientFactory(marketing_consent=False)
    result = patient_consent_set(
        patient=patient, kind=ConsentChange.Kind.MARKETING, given=False, by=front_desk_user
    )
    assert result is None
    assert not patient.consent_changes.exists()
    patient.refresh_from_db()
    assert patient.marketing_consent_at is None


def test_a_stale_patient_object_does_not_duplicate_history(front_desk_user):
    patient = PatientFactory(marketing_consent=False)
    stale = Patient.objects.get(pk=patient.pk)
    patient_consent_set(patient=patient, kind="marketing", given=True, by=front_desk_user)
    assert (
        patient_consent_set(patient=stale, kind="marketing", given=True, by=front_desk_user) is None
    )
    assert patient.consent_changes.count() == 1


def test_consent_records_its_source(front_desk_user):
    patient = PatientFactory(marketing_consent=True)
    change = patient_consent_set(
        patient=patient, kind="marketing", given=False, by=None, source="unsubscribe link"
    )
    assert change.source == "unsubscribe link"
    assert change.recorded_by is None


def test_an_unknown_consent_kind_is_refused():
    patient = PatientFactory()
    with pytest.raises(DomainError):
        patient_consent_set(patient=patient, kind="sms", given=True, by=None)
    assert not patient.consent_changes.exists()


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("07700 900031", "+44 7700 900031"),
        ("+44 7700 900031", "07700 900031"),
        ("0044 7700 900031", "(07700) 900-031"),
    ],
)
def test_it_warns_of_a_duplicate_phone_typed_in_national_or_international_format(
    stored, typed, front_desk_user
):
    existing = _create(first_name="First", last_name="One", email="", phone=stored)
    with pytest.raises(PossibleDuplicate) as caught:
        _create(first_name="Someone", last_name="Else", email="", phone=typed)
    assert caught.value.matches == [existing]


def test_a_number_without_a_country_code_is_read_in_the_clinics_region(settings):
    settings.PHONE_REGION = "FR"
    assert phone_digits("06 12 34 56 78") == "+33612345678"
    settings.PHONE_REGION = "GB"
    assert phone_digits("07700 900031") == "+447700900031"
    assert phone_digits("+1 415 555 0100") == "+14155550100"
