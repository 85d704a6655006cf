import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps

from patients.tests.factories import PatientFactory
from treatments.models import Session
from treatments.products.tests.factories import IngredientFactory, LotFactory
from treatments.tests.factories import SessionFactory

from .factories import make_consent, make_photo_consent, make_screening


@pytest.fixture(autouse=True)
def clinical_defaults(db, face):
    """The seeded screening rules and first consent texts.

    Transactional (browser) tests flush every table, data-migration rows included, and
    --reuse-db keeps the flushed database; seeding again (idempotent) keeps these tests
    independent of what ran before.
    """
    migration = importlib.import_module(
        "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
    )
    migration.seed(django_apps, None)


@pytest.fixture
def patient(clinic):
    return PatientFactory(first_name="Jane", last_name="Doe")


@pytest.fixture
def session(patient, face, practitioner_profile, room):
    """A face session that started 30 minutes ago; the patient has arrived."""
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    return SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=starts,
        status=Session.Status.ARRIVED,
    )


@pytest.fixture
def ready(patient, face, practitioner_profile):
    """The patient is screened (nothing declared), has signed consent and photo consent."""
    user = practitioner_profile.user
    screening = make_screening(patient, user)
    consent = make_consent(patient, face, user)
    make_photo_consent(patient, user)
    return screening, consent


@pytest.fixture
def lot(clinic):
    lot = LotFactory(product__name="Hydra Cocktail")
    IngredientFactory(product=lot.product, name="Hyaluronic acid")
    return lot


@pytest.fixture
def lidocaine_lot(clinic):
    lot = LotFactory(product__name="Numbing Cocktail")
    IngredientFactory(product=lot.product, name="Lidocaine hydrochloride")
    return lot
