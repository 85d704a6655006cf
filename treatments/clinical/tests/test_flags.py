import datetime as dt

import pytest
import time_machine

from patients.tests.factories import PatientFactory
from treatments.clinical.selectors import (
    FLAG_CONSENT_MISSING,
    FLAG_DO_NOT_BOOK,
    FLAG_SCREENING_DUE,
    patient_flags,
    patients_flags,
)
from treatments.tests.factories import SessionFactory

from .factories import make_consent, make_screening

pytestmark = pytest.mark.django_db


def test_a_new_patient_needs_screening_and_consent(clinic):
    assert patient_flags(patient=PatientFactory()) == [FLAG_SCREENING_DUE, FLAG_CONSENT_MISSING]


def test_a_screened_and_consented_patient_has_no_flags(face, practitioner_profile):
    patient = PatientFactory()
    make_screening(patient, practitioner_profile.user)
    make_consent(patient, face, practitioner_profile.user)
    SessionFactory(patient=patient, session_type=face, practitioner=practitioner_profile)
    assert patient_flags(patient=patient) == []


def test_consent_for_another_session_type_does_not_cover_the_booked_one(
    face, scalp_superficial, practitioner_profile
):
    patient = PatientFactory()
    make_screening(patient, practitioner_profile.user)
    make_consent(patient, face, practitioner_profile.user)
    SessionFactory(
        patient=patient, session_type=scalp_superficial, practitioner=practitioner_profile
    )
    assert patient_flags(patient=patient) == [FLAG_CONSENT_MISSING]


def test_an_absolute_contraindication_says_do_not_book_and_nothing_else(face, practitioner_profile):
    patient = PatientFactory()
    make_screening(patient, practitioner_profile.user, pregnancy="")
    make_consent(patient, face, practitioner_profile.user)
    assert patient_flags(patient=patient) == [FLAG_DO_NOT_BOOK]


def test_a_technique_only_rule_does_not_block_booking(face, practitioner_profile):
    patient = PatientFactory()
    make_screening(patient, practitioner_profile.user, pacemaker="")
    make_consent(patient, face, practitioner_profile.user)
    assert patient_flags(patient=patient) == []


def test_screening_falls_due_after_six_months(face, practitioner_profile):
    patient = PatientFactory()
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        make_screening(patient, practitioner_profile.user)
        make_consent(patient, face, practitioner_profile.user)
    assert patient_flags(patient=patient, now=dt.datetime(2026, 7, 9, tzinfo=dt.UTC)) == []
    assert patient_flags(patient=patient, now=dt.datetime(2026, 7, 11, tzinfo=dt.UTC)) == [
        FLAG_SCREENING_DUE
    ]


def test_bulk_flags_take_a_fixed_number_of_queries(
    face, practitioner_profile, django_assert_max_num_queries
):
    patients = PatientFactory.create_batch(30)
    for patient in patients[:15]:
        make_screening(patient, practitioner_profile.user, pregnancy="")
        make_consent(patient, face, practitioner_profile.user)
    with django_assert_max_num_queries(6):
        flags = patients_flags(patients=patients)
    assert flags[patients[0].pk] == [FLAG_DO_NOT_BOOK]
    assert flags[patients[-1].pk] == [FLAG_SCREENING_DUE, FLAG_CONSENT_MISSING]
