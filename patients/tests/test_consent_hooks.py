"""The consent hook table: messaging reacts to a consent change in its transaction, and a
failing reaction rolls the change back."""

import pytest

from patients.consent_hooks import consent_hooks
from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory
from treatments.messaging import reactions


def test_the_table_has_messaging_only():
    assert consent_hooks.handlers() == [("messaging", reactions.on_consent_change)]


@pytest.mark.django_db
def test_a_consent_change_calls_the_handler_with_the_change(monkeypatch):
    patient = PatientFactory(marketing_consent=True)
    calls = []
    monkeypatch.setitem(
        consent_hooks._handlers,
        "messaging",
        lambda p, kind, given: calls.append((p.pk, kind, given)),
    )
    patient_consent_set(patient=patient, kind=ConsentChange.Kind.MARKETING, given=False, by=None)
    assert calls == [(patient.pk, ConsentChange.Kind.MARKETING, False)]


@pytest.mark.django_db
def test_a_failing_handler_rolls_the_consent_change_back(monkeypatch):
    patient = PatientFactory(marketing_consent=True)

    def boom(p, kind, given):
        raise RuntimeError("the reaction failed")

    monkeypatch.setitem(consent_hooks._handlers, "messaging", boom)
    with pytest.raises(RuntimeError):
        patient_consent_set(
            patient=patient, kind=ConsentChange.Kind.MARKETING, given=False, by=None
        )
    assert Patient.objects.get(pk=patient.pk).marketing_consent is True
    assert not ConsentChange.objects.filter(patient=patient).exists()
