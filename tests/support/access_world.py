"""The objects the access matrix (tests/test_access.py) builds its URLs from: each made the
first time a URL needs it, then kept for that test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.clinical.models import (
    ClinicalPhoto,
    ConsentSignature,
    ConsentText,
    Consultation,
    Questionnaire,
    Reaction,
    Screening,
    ScreeningRule,
    SessionRecord,
)
from treatments.clinical.services.photos import photo_upload
from treatments.clinical.services.reactions import reaction_report
from treatments.clinical.services.records import record_product_add, record_save
from treatments.clinical.tests.factories import (
    make_consent,
    make_photo_consent,
    make_screening,
    png_bytes,
    record_data,
)
from treatments.courses.models import Course, Protocol
from treatments.courses.tests.factories import CourseFactory, ProtocolFactory
from treatments.messaging.models import Kind, OutboxMessage, PatientCancellation, Status
from treatments.messaging.tokens import link_make
from treatments.models import Room, Session, SessionType, StaffProfile, WorkingException
from treatments.products.models import Lot, LotUsage, Product
from treatments.products.tests.factories import IngredientFactory, LotFactory
from treatments.tests.factories import SessionFactory
from treatments.waitlist.models import Entry, Offer


class World:
    """The real objects the URLs point at, built on first use and then kept for the test."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def fixture(self, name: str) -> Any:
        return self.request.getfixturevalue(name)

    @cached_property
    def doctor(self) -> StaffProfile:
        return self.fixture("practitioner_profile")

    @cached_property
    def room(self) -> Room:
        return self.fixture("room")

    @cached_property
    def session_type(self) -> SessionType:
        return self.fixture("face")

    @cached_property
    def patient(self) -> Patient:
        return PatientFactory.create(first_name="Jane", last_name="Doe")

    @cached_property
    def session(self) -> Session:
        """A face session that started 30 minutes ago; the patient has arrived."""
        return SessionFactory.create(
            patient=self.patient,
            session_type=self.session_type,
            practitioner=self.doctor,
            room=self.room,
            starts_at=timezone.now().replace(microsecond=0) - dt.timedelta(minutes=30),
            status=Session.Status.ARRIVED,
        )

    @cached_property
    def screening_rule(self) -> ScreeningRule:
        return ScreeningRule.objects.create(
            code="access-matrix",
            question="Keloid or hypertrophic scarring?",
            severity=ScreeningRule.Severity.RELATIVE,
        )

    @cached_property
    def screening(self) -> Screening:
        self.screening_rule  # noqa: B018 - at least one rule to answer
        return make_screening(self.patient, self.doctor.user)

    @cached_property
    def consent(self) -> ConsentSignature:
        return make_consent(self.patient, self.session_type, self.doctor.user)

    @cached_property
    def consent_text(self) -> ConsentText:
        return self.consent.text

    @cached_property
    def record(self) -> SessionRecord:
        self.screening  # noqa: B018 - a record needs the patient screened and consented
        self.consent  # noqa: B018
        make_photo_consent(self.patient, self.doctor.user)
        return record_save(session=self.session, by=self.doctor.user, data=record_data())

    @cached_property
    def lot(self) -> Lot:
        lot = LotFactory.create(product__name="Hydra Cocktail")
        IngredientFactory(product=lot.product, name="Hyaluronic acid")
        return lot

    @cached_property
    def product(self) -> Product:
        return self.lot.product

    @cached_property
    def product_usage(self) -> LotUsage:
        return record_product_add(
            record=self.record, lot=self.lot, volume_ml=Decimal("1"), by=self.doctor.user
        )

    @cached_property
    def photo(self) -> ClinicalPhoto:
        self.record  # noqa: B018 - photo consent and a record first
        return photo_upload(
            session=self.session,
            stage="before",
            zone="cheeks",
            view="frontal",
            upload=SimpleUploadedFile("a.png", png_bytes()),
            by=self.doctor.user,
        )

    @cached_property
    def reaction(self) -> Reaction:
        return reaction_report(
            session=self.session,
            patient=self.patient,
            type="bruising",
            severity="mild",
            onset=timezone.now() - dt.timedelta(minutes=5),
            description="small bruise",
            source="practitioner",
            reported_by=self.doctor.user,
        )

    @cached_property
    def consultation(self) -> Consultation:
        return Consultation.objects.create(
            patient=self.patient,
            practitioner=self.doctor.user,
            skin_type="dry",
            fitzpatrick=2,
            hydration="low",
            elasticity="moderate",
            sensitivity="low",
            concerns=["rejuvenation"],
        )

    @cached_property
    def protocol(self) -> Protocol:
        return ProtocolFactory.create(name="Skin test", default_session_type=self.session_type)

    @cached_property
    def course(self) -> Course:
        return CourseFactory.create(
            patient=self.patient, protocol=self.protocol, practitioner=self.doctor, room=self.room
        )

    @cached_property
    def message(self) -> OutboxMessage:
        return OutboxMessage.objects.create(
            kind=Kind.CONFIRMATION,
            patient=self.patient,
            session=self.session,
            due_at=timezone.now() - dt.timedelta(hours=1),
            expires_at=timezone.now() + dt.timedelta(days=1),
            status=Status.FAILED,
        )

    @cached_property
    def upcoming(self) -> Session:
        """A session booked for tomorrow: its confirm and cancel links are live."""
        return SessionFactory.create(
            patient=self.patient,
            session_type=self.session_type,
            practitioner=self.doctor,
            room=self.room,
        )

    @cached_property
    def patient_cancellation(self) -> PatientCancellation:
        """A session the patient cancelled through the email link, not yet seen by the desk."""
        cancelled = SessionFactory.create(
            patient=self.patient,
            session_type=self.session_type,
            practitioner=self.doctor,
            room=self.room,
            status=Session.Status.CANCELLED,
            cancelled_at=timezone.now(),
            cancel_reason="Cancelled by the patient through the email link.",
        )
        return PatientCancellation.objects.create(session=cancelled, cancelled_at=timezone.now())

    @cached_property
    def nudge(self) -> OutboxMessage:
        """A follow-up nudge for the course's second step, not booked yet."""
        return OutboxMessage.objects.create(
            kind=Kind.FOLLOW_UP,
            patient=self.patient,
            course=self.course,
            step=2,
            due_at=timezone.now() - dt.timedelta(hours=1),
            expires_at=timezone.now() + dt.timedelta(days=7),
            status=Status.SENT,
        )

    @cached_property
    def questionnaire(self) -> Questionnaire:
        """The health questionnaire sent to the patient, not answered yet."""
        return Questionnaire.objects.create(patient=self.patient, session=self.upcoming)

    def token(self, action: str) -> str:
        """A valid signed link token for `action`, as the patient's email carries it."""
        week = timezone.now() + dt.timedelta(days=7)
        if action == "questionnaire":
            payload = {"q": self.questionnaire.pk, "p": self.patient.pk}
            return link_make(action=action, payload=payload, expires_at=week)
        payload, expires_at = {
            "confirm": ({"s": self.upcoming.pk}, self.upcoming.starts_at),
            "cancel": ({"s": self.upcoming.pk}, self.upcoming.starts_at),
            "reaction": ({"s": self.session.pk, "p": self.patient.pk}, week),
            "book": ({"c": self.course.pk, "p": self.patient.pk, "m": self.nudge.pk}, week),
            "unsubscribe": ({"p": self.patient.pk}, week),
        }[action]
        return link_make(action=action, payload=payload, expires_at=expires_at)

    @cached_property
    def working_exception(self) -> WorkingException:
        return WorkingException.objects.create(
            staff=self.doctor, date=timezone.now().date(), kind=WorkingException.Kind.LEAVE
        )

    @cached_property
    def waitlist_entry(self) -> Entry:
        """The patient waits for a face session in the coming fortnight."""
        today = timezone.now().date()
        return Entry.objects.create(
            patient=self.patient,
            session_type=self.session_type,
            earliest=today,
            latest=today + dt.timedelta(days=14),
            joined_at=timezone.now(),
        )

    @cached_property
    def waitlist_offer(self) -> Offer:
        """An open offer of tomorrow's slot to the waiting patient."""
        now = timezone.now()
        return Offer.objects.create(
            entry=self.waitlist_entry,
            starts_at=now.replace(microsecond=0) + dt.timedelta(days=2),
            practitioner=self.doctor,
            room=self.room,
            session_type=self.session_type,
            created_at=now,
            expires_at=now + dt.timedelta(hours=2),
        )

    @cached_property
    def waitlist_request(self) -> Entry:
        """A request from the booking page, waiting for its email link."""
        today = timezone.now().date()
        return Entry.objects.create(
            status=Entry.Status.AWAITING_EMAIL,
            session_type=self.session_type,
            earliest=today,
            latest=today + dt.timedelta(days=14),
            email="doe@example.com",
            date_of_birth=dt.date(1980, 1, 1),
            verify_expires_at=timezone.now() + dt.timedelta(minutes=30),
            added_online=True,
            joined_at=timezone.now(),
        )
