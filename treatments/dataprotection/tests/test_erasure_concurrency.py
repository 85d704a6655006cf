"""Erasure requests under real concurrency (PostgreSQL): managers through the real page, the daily
job in two workers at once, and an erasure racing a booking of the same patient.

Each thread has its own connection. The patient row is the lock: one request is recorded and
audited, every other manager gets the form back with why not, never a 500; two runs of the
daily job complete each due request once; a booking and an erasure of one patient queue, so
an erased patient is never booked, and an erasure never leaves an upcoming session behind.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from patients.models import Patient
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.dataprotection.models import ErasureRequest
from treatments.dataprotection.services import erasure_request, erasures_complete_due
from treatments.models import Clinic, Session
from treatments.services.booking import session_book
from treatments.tests.test_booking_concurrency import race

from .conftest import add_session, make_full_patient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 10


def _erase(user, patient: Patient):
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        url = reverse("dataprotection:patient_erasure", args=[patient.pk])
        return client.post(url, {"confirm": "on"})

    return post


def _one_recorded(responses, refusal: str) -> None:
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert sorted(r.status_code for r in responses) == [200] * (N - 1) + [302]
    for refused in (r for r in responses if r.status_code == 200):
        assert refused.context["form"].non_field_errors()[0].startswith(refusal), refused.context[
            "form"
        ].errors


def _erasure_trail(patient: Patient) -> list[str]:
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.ERASURE, patient=patient)
    return list(entries.values_list("note", flat=True))


def test_ten_managers_erasing_a_patient_without_records_erase_once(
    manager_user, practitioner_profile, face, room
):
    patient = PatientFactory(first_name="Nora", last_name="Plain", marketing_consent=True)
    add_session(patient, practitioner_profile, face, room, minutes_ago=60 * 24 * 3)

    responses = race([_erase(manager_user, patient)] * N)

    _one_recorded(responses, "This patient's details have already been erased.")
    patient.refresh_from_db()
    assert patient.erased_at is not None
    assert ErasureRequest.objects.filter(patient=patient).count() == 1
    assert _erasure_trail(patient) == ["erased at once"]
    assert patient.consent_changes.filter(kind="marketing", given=False).count() == 1


def test_ten_managers_recording_one_request_for_a_patient_with_records_record_it_once(
    manager_user, practitioner_profile, face, room
):
    full = make_full_patient(profile=practitioner_profile, face=face, room=room)

    responses = race([_erase(manager_user, full.patient)] * N)

    _one_recorded(responses, "An erasure request was already recorded on")
    request = ErasureRequest.objects.get(patient=full.patient)
    assert request.outcome == ErasureRequest.Outcome.RETAINED
    assert _erasure_trail(full.patient) == [
        f"clinical kept to {request.retention_until.isoformat()}"
    ]
    assert full.patient.consent_changes.filter(kind="marketing", given=False).count() == 1


def test_two_runs_of_the_daily_job_at_once_complete_each_request_once(
    manager_user, practitioner_profile, face, room, room2, django_capture_on_commit_callbacks
):
    patients = [
        make_full_patient(profile=practitioner_profile, face=face, room=room).patient,
        make_full_patient(
            profile=practitioner_profile,
            face=face,
            room=room2,
            first_name="Olive",
            last_name="Other",
            minutes_ago=150,
        ).patient,
    ]
    requests = [erasure_request(patient=p, by=manager_user) for p in patients]
    until = max(r.retention_until for r in requests)
    zone = Clinic.objects.get().zone
    with time_machine.travel(dt.datetime.combine(until, dt.time(3), tzinfo=zone), tick=True):
        done = race([erasures_complete_due] * 2)

    assert sorted(done) in ([0, 2], [1, 1]), done
    for patient in patients:
        patient.refresh_from_db()
        assert patient.erased_at is not None
        assert _erasure_trail(patient).count("retention ended") == 1
    assert ErasureRequest.objects.filter(completed_at__isnull=True).count() == 0


ROUNDS = 6


def test_an_erasure_racing_a_booking_of_the_same_patient_lets_one_through(
    manager_user, practitioner_profile, face, room
):
    starts = dt.datetime.now(Clinic.objects.get().zone).replace(
        hour=10, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=7)
    erased = booked = 0
    for i in range(ROUNDS):
        patient = PatientFactory(first_name="Nora", last_name=f"Plain{i}")
        erasure, booking = race(
            [
                lambda p=patient: erasure_request(patient=p, by=manager_user),
                lambda p=patient, i=i: session_book(
                    patient=p,
                    session_type=face,
                    practitioner=practitioner_profile,
                    room=room,
                    starts_at=starts + dt.timedelta(hours=i),
                ),
            ]
        )
        patient.refresh_from_db()
        upcoming = Session.objects.filter(patient=patient, status=Session.Status.BOOKED)
        if isinstance(erasure, ErasureRequest):
            erased += 1
            assert isinstance(booking, DomainError), booking
            assert booking.message == (
                "This patient's details were erased at their request: they cannot be booked."
            )
            assert patient.erased_at is not None and not upcoming.exists()
        else:
            booked += 1
            assert isinstance(booking, Session), booking
            assert isinstance(erasure, DomainError), erasure
            assert "has 1 upcoming session(s)" in erasure.message
            assert patient.erased_at is None and upcoming.count() == 1
    assert erased + booked == ROUNDS
