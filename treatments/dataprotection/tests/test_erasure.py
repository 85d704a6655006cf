"""Erasure with retention: the three cases each leave exactly what the rule says."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from celery.schedules import crontab
from django.core.files.storage import default_storage
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from mesoclinic.celery import app
from mesoclinic.errors import DomainError
from patients.models import Patient
from patients.selectors import patients_recent, patients_search
from patients.tests.factories import PatientFactory
from treatments.clinical.models import (
    ClinicalPhoto,
    ConsentSignature,
    Consultation,
    PhotoConsent,
    Reaction,
    RecordDraft,
    SessionRecord,
)
from treatments.courses.models import Course
from treatments.dataprotection import tasks
from treatments.dataprotection.models import ErasureRequest
from treatments.dataprotection.services import (
    ERASED_DATE_OF_BIRTH,
    erasure_request,
    erasures_complete_due,
)
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.models import Clinic, Session
from treatments.waitlist.models import Entry as WaitlistEntry

from .conftest import add_session

pytestmark = pytest.mark.django_db


def _clinical_snapshot(full) -> dict:
    """Everything clinical of one patient, to show it did not change."""
    patient = full.patient
    return {
        "consultations": list(Consultation.objects.filter(patient=patient).values()),
        "records": list(SessionRecord.objects.filter(patient=patient).values()),
        "reactions": list(Reaction.objects.filter(patient=patient).values()),
        "photos": list(ClinicalPhoto.objects.filter(patient=patient).values()),
        "signatures": list(ConsentSignature.objects.filter(patient=patient).values()),
        "patient": Patient.objects.filter(pk=patient.pk).values().get(),
        "files": [
            default_storage.exists(full.photo.image.name),
            default_storage.exists(full.signature.signature.name),
        ],
    }


def _today() -> dt.date:
    """The clinic's today: the full patient's latest clinical entries were written just now."""
    return dt.datetime.now(Clinic.objects.get().zone).date()


def _assert_anonymised(patient: Patient, old_name: str, old_email: str, old_phone: str) -> None:
    patient.refresh_from_db()
    assert patient.full_name == f"Erased patient #{patient.pk}"
    assert (patient.email, patient.phone, patient.phone_digits, patient.address) == ("", "", "", "")
    assert patient.date_of_birth == ERASED_DATE_OF_BIRTH
    assert not patient.marketing_consent and not patient.email_reminders_consent
    assert patient.erased_at is not None
    assert not OutboxMessage.objects.filter(patient=patient).exists()
    assert not WaitlistEntry.objects.filter(patient=patient).exists()
    for query in (old_name, old_email, old_phone, "Erased", f"{ERASED_DATE_OF_BIRTH:%Y-%m-%d}"):
        assert patients_search(query=query) == []
    assert patient.pk not in {p.pk for p in patients_recent()}


# --- no clinical record: erased at once -------------------------------------------------------


@pytest.fixture
def plain(practitioner_profile, face, room):
    """A patient with a past session and messages, and no clinical record at all."""
    patient = PatientFactory(
        first_name="Nora", last_name="Plain", address="2 Low Rd", marketing_consent=True
    )
    session = add_session(
        patient, practitioner_profile, face, room, minutes_ago=60 * 24 * 3, status="completed"
    )
    Session.objects.filter(pk=session.pk).update(notes="Prefers mornings, ring 07700 900999")
    OutboxMessage.objects.create(
        kind=Kind.REMINDER,
        patient=patient,
        session=session,
        due_at=session.starts_at,
        expires_at=session.starts_at,
        status=Status.SENT,
        subject="See you tomorrow",
    )
    return patient, session


def test_a_patient_with_no_clinical_record_is_erased_at_once_and_their_sessions_stay_anonymous(
    manager, manager_user, plain, other
):
    patient, session = plain
    WaitlistEntry.objects.create(
        patient=patient,
        session_type=session.session_type,
        earliest=_today(),
        latest=_today() + dt.timedelta(days=7),
        note="Prefers mornings",
        joined_at=dt.datetime.now(dt.UTC),
    )
    before_other = _clinical_snapshot(other)
    email, phone = patient.email, patient.phone
    url = reverse("dataprotection:patient_erasure", args=[patient.pk])
    assert "at once" in manager.get(url).content.decode()
    response = manager.post(url, {"confirm": "on"})
    assert response.status_code == 302

    _assert_anonymised(patient, "Nora Plain", email, phone)
    session.refresh_from_db()
    assert session.patient_id == patient.pk and session.status == "completed"
    assert session.notes == ""
    request = ErasureRequest.objects.get(patient=patient)
    assert request.outcome == ErasureRequest.Outcome.ERASED
    assert request.completed_at is not None and request.requested_by == manager_user
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.ERASURE)
    assert list(entries.values_list("patient_id", "note")) == [(patient.pk, "erased at once")]
    assert _clinical_snapshot(other) == before_other
    assert patients_search(query="Olive Other")[0].pk == other.patient.pk


def test_erasure_at_once_waits_until_upcoming_sessions_are_cancelled(
    plain, manager_user, practitioner_profile, face, room
):
    patient, _ = plain
    add_session(patient, practitioner_profile, face, room, minutes_ago=-60 * 24, status="booked")
    with pytest.raises(DomainError, match="1 upcoming session"):
        erasure_request(patient=patient, by=manager_user)
    patient.refresh_from_db()
    assert patient.erased_at is None and patient.first_name == "Nora"
    assert not ErasureRequest.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ERASURE).exists()


def test_an_erased_patient_cannot_be_erased_again(plain, manager_user):
    patient, _ = plain
    erasure_request(patient=patient, by=manager_user)
    with pytest.raises(DomainError, match="already been erased"):
        erasure_request(patient=patient, by=manager_user)
    assert ErasureRequest.objects.count() == 1


# --- clinical records, within retention ------------------------------------------------------


def test_within_retention_the_clinical_part_is_refused_with_its_date_and_marketing_stops(
    manager, full, other
):
    before_other = _clinical_snapshot(other)
    before_clinical = _clinical_snapshot(full)
    url = reverse("dataprotection:patient_erasure", args=[full.patient.pk])
    assert "cannot be erased yet" in manager.get(url).content.decode()
    response = manager.post(url, {"confirm": "on"}, follow=True)

    request = ErasureRequest.objects.get(patient=full.patient)
    last = _today()
    assert request.outcome == ErasureRequest.Outcome.RETAINED
    assert request.retention_until == last.replace(year=last.year + 8)
    assert request.completed_at is None
    assert f"until {request.retention_until:%d %b %Y}" in response.content.decode()

    full.patient.refresh_from_db()
    assert full.patient.first_name == "Jane" and full.patient.erased_at is None
    assert not full.patient.marketing_consent
    assert full.patient.email_reminders_consent  # care messages are not marketing
    full.nudge.refresh_from_db()
    assert full.nudge.status == Status.CANCELLED
    full.care.refresh_from_db()
    assert full.care.status == Status.SENT
    latest_marketing = PhotoConsent.objects.filter(
        patient=full.patient, purpose="marketing"
    ).first()
    assert latest_marketing.given is False
    after = _clinical_snapshot(full)
    assert after["records"] == before_clinical["records"]
    assert after["photos"] == before_clinical["photos"]
    assert after["files"] == [True, True]
    assert _clinical_snapshot(other) == before_other
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.ERASURE, patient=full.patient
    ).values_list("note", flat=True).get() == (
        f"clinical kept to {request.retention_until.isoformat()}"
    )
    with pytest.raises(DomainError, match="already recorded"):
        erasure_request(patient=full.patient, by=None)


def test_the_retention_period_is_the_clinics_setting(full, manager_user):
    Clinic.objects.filter(pk=1).update(record_retention_years=10)
    request = erasure_request(patient=full.patient, by=manager_user)
    last = _today()
    assert request.retention_until == last.replace(year=last.year + 10)


# --- past retention: the daily job ------------------------------------------------------------


def _at_local_morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(3), tzinfo=Clinic.objects.get().zone)


def test_the_daily_job_does_nothing_before_the_retention_period_ends(full, manager_user):
    request = erasure_request(patient=full.patient, by=manager_user)
    day_before = request.retention_until - dt.timedelta(days=1)
    with time_machine.travel(_at_local_morning(day_before), tick=False):
        assert erasures_complete_due() == 0
    full.patient.refresh_from_db()
    assert full.patient.erased_at is None
    assert ClinicalPhoto.objects.filter(patient=full.patient).exists()


def test_past_retention_the_daily_job_anonymises_once_and_leaves_other_patients_alone(
    full, other, manager_user, django_capture_on_commit_callbacks
):
    request = erasure_request(patient=full.patient, by=manager_user)
    RecordDraft.objects.create(
        session=full.session,
        author=manager_user,
        data={"notes": "typed, never saved"},
        saved_at=dt.datetime.now(dt.UTC),
    )
    before_other = _clinical_snapshot(other)
    email, phone = full.patient.email, full.patient.phone
    photo_file, signature_file = full.photo.image.name, full.signature.signature.name
    with time_machine.travel(_at_local_morning(request.retention_until), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.erase_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.erase_due() == 0

    _assert_anonymised(full.patient, "Jane Doe", email, phone)
    request.refresh_from_db()
    assert request.completed_at is not None
    assert not ClinicalPhoto.objects.filter(patient=full.patient).exists()
    assert not default_storage.exists(photo_file)
    assert not default_storage.exists(signature_file)
    signature = ConsentSignature.objects.get(pk=full.signature.pk)
    assert (signature.signature.name, signature.typed_name) == ("", "")
    record = SessionRecord.objects.get(patient=full.patient)
    assert record.notes == "" and record.technique == "syringe"  # coded data stays
    assert not RecordDraft.objects.filter(session__patient=full.patient).exists()
    assert Consultation.objects.get(pk=full.consultation.pk).goals == ""
    assert Reaction.objects.get(pk=full.reaction.pk).description == ""
    assert Session.objects.filter(patient=full.patient).count() == 1
    assert Course.objects.get(pk=full.course.pk).status == Course.Status.STOPPED
    notes = AuditEntry.objects.filter(
        action=AuditEntry.Action.ERASURE, patient=full.patient
    ).values_list("note", flat=True)
    assert sorted(notes) == sorted(
        [f"clinical kept to {request.retention_until.isoformat()}", "retention ended"]
    )
    assert _clinical_snapshot(other) == before_other


def test_a_treatment_after_the_request_moves_the_end_of_retention(
    full, manager_user, practitioner_profile, face, room
):
    request = erasure_request(patient=full.patient, by=manager_user)
    later = add_session(full.patient, practitioner_profile, face, room, minutes_ago=60 * 24 * 2)
    future_completion = dt.datetime.combine(
        request.retention_until - dt.timedelta(days=30), dt.time(12), tzinfo=dt.UTC
    )
    Session.objects.filter(pk=later.pk).update(
        status="completed",
        completed_at=future_completion,
        starts_at=future_completion,
        ends_at=future_completion + dt.timedelta(minutes=45),
        blocked_until=future_completion + dt.timedelta(minutes=60),
    )
    Reaction.objects.filter(pk=full.reaction.pk).update(onset=future_completion)
    with time_machine.travel(_at_local_morning(request.retention_until), tick=False):
        assert erasures_complete_due() == 0
    request.refresh_from_db()
    assert request.retention_until == future_completion.date().replace(
        year=future_completion.year + 8
    )
    assert request.completed_at is None
    full.patient.refresh_from_db()
    assert full.patient.erased_at is None


# --- access and admin -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("front_desk", 403), ("therapist", 403), ("practitioner", 403), ("manager", 200)],
)
def test_only_a_manager_records_an_erasure_request(request, plain, persona, status):
    patient, _ = plain
    client = request.getfixturevalue(persona)
    url = reverse("dataprotection:patient_erasure", args=[patient.pk])
    assert client.get(url).status_code == status
    client.post(url, {"confirm": "on"})
    patient.refresh_from_db()
    assert (patient.erased_at is not None) == (status == 200)


def test_the_request_needs_the_confirmation_box(manager, plain):
    patient, _ = plain
    url = reverse("dataprotection:patient_erasure", args=[patient.pk])
    response = manager.post(url, {})
    assert response.status_code == 200
    assert "Tick the box" in response.content.decode()
    patient.refresh_from_db()
    assert patient.erased_at is None


def test_a_refusal_is_shown_on_the_form(manager, plain, practitioner_profile, face, room):
    patient, _ = plain
    add_session(patient, practitioner_profile, face, room, minutes_ago=-60 * 24, status="booked")
    url = reverse("dataprotection:patient_erasure", args=[patient.pk])
    response = manager.post(url, {"confirm": "on"})
    assert response.status_code == 200
    assert "Cancel them first" in response.content.decode()


def test_beat_runs_the_erasure_job_once_a_day():
    entry = app.conf.beat_schedule["dataprotection-erase-due"]
    assert entry["task"] == tasks.erase_due.name == "dataprotection.erase_due"
    assert entry["schedule"] == crontab(hour=2, minute=30)
