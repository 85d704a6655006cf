"""A patient with every kind of record, built through the real services."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile

from patients.models import Patient
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory
from treatments.clinical.models import ClinicalPhoto, ConsentSignature, Consultation, Reaction
from treatments.clinical.services.consent import photo_consent_set
from treatments.clinical.services.consultation import ConsultationData, consultation_save
from treatments.clinical.services.photos import photo_upload
from treatments.clinical.services.reactions import reaction_report
from treatments.clinical.services.records import (
    addendum_add,
    record_product_add,
    record_save,
    record_sign,
)
from treatments.clinical.tests.factories import (
    make_consent,
    make_photo_consent,
    make_screening,
    png_bytes,
    record_data,
)
from treatments.courses.models import Course, CourseStep
from treatments.courses.tests.factories import CourseFactory, ProtocolFactory
from treatments.messaging.models import Kind, OutboxMessage, Status
from treatments.models import Session
from treatments.products.models import Lot
from treatments.products.tests.factories import LotFactory
from treatments.tests.factories import SessionFactory


@pytest.fixture(autouse=True)
def clinical_defaults(db, face):
    migration = importlib.import_module(
        "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
    )
    migration.seed(django_apps, None)


@dataclass
class Full:
    patient: Patient
    session: Session
    consultation: Consultation
    photo: ClinicalPhoto
    signature: ConsentSignature
    reaction: Reaction
    course: Course
    lot: Lot
    nudge: OutboxMessage
    care: OutboxMessage
    objects: dict[str, list[Any]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def add_session(patient, profile, face, room, *, minutes_ago=30, status=Session.Status.ARRIVED):
    return SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=profile,
        room=room,
        starts_at=_now() - dt.timedelta(minutes=minutes_ago),
        status=status,
    )


def add_photo(session, user, color=(200, 150, 140)) -> ClinicalPhoto:
    upload = SimpleUploadedFile("p.png", png_bytes(color=color), content_type="image/png")
    return photo_upload(
        session=session, stage="before", zone="cheeks", view="frontal", upload=upload, by=user
    )


def make_full_patient(
    *, profile, face, room, first_name="Jane", last_name="Doe", minutes_ago=30
) -> Full:
    user = profile.user
    patient = PatientFactory.create(first_name=first_name, last_name=last_name, address="1 High St")
    patient_consent_set(patient=patient, kind="marketing", given=True, by=user)
    photo_consent_set(patient=patient, purpose="marketing", given=True, by=user)
    screening = make_screening(patient, user)
    signature = make_consent(patient, face, user)
    make_photo_consent(patient, user)
    lot = LotFactory.create(product__name=f"Hydra {last_name}")
    session = add_session(patient, profile, face, room, minutes_ago=minutes_ago)
    record = record_save(session=session, by=user, data=record_data(notes=f"Notes on {last_name}"))
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("2.5"), by=user)
    ended = session.starts_at + dt.timedelta(minutes=25)
    record = record_sign(record=record, by=user, ended_at=ended)
    addendum = addendum_add(by=user, text="Correction: left cheek too", record=record)
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
            goals=f"Goals of {last_name}",
            plan_products=[lot.product],
        ),
    )
    reaction = reaction_report(
        session=session,
        patient=patient,
        type="bruising",
        severity="mild",
        onset=_now(),
        description=f"Bruise on {last_name}",
        source="practitioner",
        reported_by=user,
    )
    photo = add_photo(session, user)
    course = CourseFactory.create(patient=patient, practitioner=profile, protocol=ProtocolFactory())
    CourseStep.objects.filter(course=course, number=1).update(session=session)
    nudge = OutboxMessage.objects.create(
        kind=Kind.FOLLOW_UP,
        patient=patient,
        course=course,
        step=2,
        due_at=_now() + dt.timedelta(days=10),
        expires_at=_now() + dt.timedelta(days=20),
    )
    # Signing completed the session, which scheduled its aftercare: say it was sent.
    care = OutboxMessage.objects.get(kind=Kind.AFTERCARE_24H, session=session)
    OutboxMessage.objects.filter(pk=care.pk).update(
        status=Status.SENT, sent_at=_now(), sent_to=patient.email, subject="Your aftercare"
    )
    patient.refresh_from_db()
    objects = {
        "sessions": [session],
        "consultations": [consultation],
        "screenings": [screening],
        "session_records": [record],
        "consent_signatures": [signature],
        "photos": [photo],
        "reactions": [reaction],
        "lot_usages": [usage],
        "lots": [lot],
        "products": [lot.product],
        "courses": [course],
        "messages": list(patient.outbox_messages.all()),
        "consent_changes": list(patient.consent_changes.all()),
        "photo_consents": list(patient.photo_consents.all()),
        "addenda": [addendum],
    }
    return Full(
        patient=patient,
        session=session,
        consultation=consultation,
        photo=photo,
        signature=signature,
        reaction=reaction,
        course=course,
        lot=lot,
        nudge=nudge,
        care=care,
        objects=objects,
    )


@pytest.fixture
def full(practitioner_profile, face, room) -> Full:
    return make_full_patient(profile=practitioner_profile, face=face, room=room)


@pytest.fixture
def other(practitioner_profile, face, room2) -> Full:
    """Another patient with every kind of record: nothing of theirs may leak or change."""
    return make_full_patient(
        profile=practitioner_profile,
        face=face,
        room=room2,
        first_name="Olive",
        last_name="Other",
        minutes_ago=150,
    )
