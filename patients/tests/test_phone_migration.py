"""The data migration that re-reads every stored phone number into E.164."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("patients.migrations.0004_renormalise_phone_numbers_e164")


def test_rows_stored_as_bare_digits_are_renormalised_so_duplicates_match():
    national = PatientFactory(phone="07700 900031", phone_digits="07700900031")
    international = PatientFactory(phone="+44 7700 900031", phone_digits="447700900031")
    unreadable = PatientFactory(phone="12", phone_digits="12")
    none = PatientFactory(phone="", phone_digits="")
    migration.renormalise(apps, None)
    stored = dict(Patient.objects.values_list("pk", "phone_digits"))
    assert stored[national.pk] == stored[international.pk] == "+447700900031"
    assert (stored[unreadable.pk], stored[none.pk]) == ("12", "")
