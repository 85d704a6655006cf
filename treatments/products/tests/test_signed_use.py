"""Recall and stock count only signed records' products; drafts are shown apart."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from treatments.clinical.models import SessionRecord
from treatments.models import Session
from treatments.products.selectors import products_list, stock_warnings
from treatments.products.services import lot_use
from treatments.tests.factories import SessionFactory

from .factories import LotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def uses(practitioner_profile, room, face):
    """Lot X-1 (10 ml received): 2 ml in a signed record (Alice), 3 ml in a draft for a session
    still to come (Bob)."""
    lot = LotFactory(lot_number="X-1", quantity_received_ml=Decimal("10"))
    start = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)
    for index, (name, ml, signed) in enumerate([("Alice", "2", True), ("Bob", "3", False)]):
        session = SessionFactory(
            patient=PatientFactory(first_name=name, last_name=f"{name}son"),
            practitioner=practitioner_profile,
            room=room,
            session_type=face,
            starts_at=start + dt.timedelta(hours=index),
            status=Session.Status.COMPLETED if signed else Session.Status.BOOKED,
        )
        lot_use(lot=lot, session=session, volume_ml=Decimal(ml))
        user = practitioner_profile.user
        SessionRecord.objects.create(
            session=session,
            patient=session.patient,
            author=user,
            technique="manual",
            depth="superficial",
            signed_at=timezone.now() if signed else None,
            signed_by=user if signed else None,
        )
    return lot


def test_the_recall_counts_the_signed_use_and_shows_the_draft_apart(manager, uses):
    page = manager.get(reverse("products:lot_recall", args=[uses.pk])).content.decode()
    signed_part, draft_part = page.split("In unsigned drafts")
    assert "1 patient, 1 signed use" in signed_part
    assert "Aliceson, Alice" in signed_part and "Bobson" not in signed_part
    assert "Bobson, Bob" in draft_part
    rows = list(
        csv.DictReader(
            io.StringIO(
                manager.get(reverse("products:lot_recall_csv", args=[uses.pk])).content.decode()
            )
        )
    )
    assert {(row["first_name"], row["record"]) for row in rows} == {
        ("Alice", "signed"),
        ("Bob", "draft"),
    }


def test_stock_counts_only_signed_use_and_names_the_draft_volume(uses):
    product = next(p for p in products_list() if p.pk == uses.product_id)
    assert (product.stock_ml, product.draft_ml) == (Decimal("8"), Decimal("3"))
    uses.product.low_stock_threshold_ml = Decimal("9")
    uses.product.save()
    [low] = stock_warnings().low_stock
    assert (low.stock_ml, low.product.draft_ml) == (Decimal("8"), Decimal("3"))
