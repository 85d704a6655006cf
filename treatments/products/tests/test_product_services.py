import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from mesoclinic.errors import DomainError
from treatments.models import Session
from treatments.products.models import Lot, LotUsage, Product
from treatments.products.services import (
    EvidenceData,
    IngredientData,
    InsufficientStock,
    LotExpired,
    ProductData,
    ProductNotUsable,
    lot_receive,
    lot_usage_reverse,
    lot_use,
    product_is_usable,
    product_save,
)
from treatments.tests.factories import SessionFactory

from .factories import IngredientFactory, LotFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(clinic, practitioner_profile, room, face):
    return SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=dt.datetime(2030, 6, 10, 9, 0, tzinfo=dt.UTC),
    )


def test_a_registered_active_product_is_usable(clinic):
    assert product_is_usable(ProductFactory())


def test_a_product_without_registration_number_or_body_is_not_usable(clinic):
    assert not product_is_usable(ProductFactory(registration_number=""))
    assert not product_is_usable(ProductFactory(registration_body=" "))
    assert not product_is_usable(ProductFactory(active=False))


def test_ingredient_names_are_lower_case(clinic):
    product = ProductFactory()
    IngredientFactory(product=product, name="Lidocaine HCl")
    IngredientFactory(product=product, name=" Hyaluronic Acid ")
    assert product.ingredient_names() == ["lidocaine hcl", "hyaluronic acid"]


def test_it_records_use_and_takes_the_volume_out_of_stock(session, practitioner_profile):
    lot = LotFactory(quantity_received_ml=Decimal("10"))
    usage = lot_use(
        lot=lot, session=session, volume_ml=Decimal("2.5"), by=practitioner_profile.user
    )
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("7.50")
    assert usage.session == session and usage.volume_ml == Decimal("2.5")
    assert usage.recorded_by == practitioner_profile.user


def test_it_refuses_an_unregistered_product_and_saves_nothing(session):
    lot = LotFactory(product=ProductFactory(registration_number=""))
    with pytest.raises(ProductNotUsable, match="no medical-device registration"):
        lot_use(lot=lot, session=session, volume_ml=Decimal("1"))
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == lot.quantity_received_ml
    assert not LotUsage.objects.exists()


def test_it_refuses_an_inactive_product(session):
    lot = LotFactory(product=ProductFactory(active=False))
    with pytest.raises(ProductNotUsable, match="inactive"):
        lot_use(lot=lot, session=session, volume_ml=Decimal("1"))
    assert not LotUsage.objects.exists()


def test_it_refuses_a_lot_that_expired_before_the_session_day(session):
    lot = LotFactory(expiry_date=dt.date(2030, 6, 9))
    with pytest.raises(LotExpired, match="expired on 09 Jun 2030"):
        lot_use(lot=lot, session=session, volume_ml=Decimal("1"))
    assert not LotUsage.objects.exists()


def test_a_lot_expiring_on_the_session_day_can_still_be_used(session):
    lot = LotFactory(expiry_date=dt.date(2030, 6, 10))
    lot_use(lot=lot, session=session, volume_ml=Decimal("1"))
    assert LotUsage.objects.count() == 1


def test_expiry_is_judged_on_the_clinic_local_day(clinic, practitioner_profile, room, face):
    # 23:30 UTC on 9 June is 00:30 on 10 June in London (BST): the local day is the 10th.
    late = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=dt.datetime(2030, 6, 9, 23, 30, tzinfo=dt.UTC),
    )
    lot = LotFactory(expiry_date=dt.date(2030, 6, 9))
    with pytest.raises(LotExpired):
        lot_use(lot=lot, session=late, volume_ml=Decimal("1"))


def test_it_refuses_more_than_the_lot_holds(session):
    lot = LotFactory(quantity_received_ml=Decimal("3"))
    with pytest.raises(InsufficientStock, match=r"only 3\.00 ml left"):
        lot_use(lot=lot, session=session, volume_ml=Decimal("3.5"))
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("3")


@pytest.mark.parametrize("volume", [Decimal("0"), Decimal("-1"), Decimal("100.01")])
def test_it_refuses_a_volume_out_of_range(session, volume):
    with pytest.raises(DomainError) as excinfo:
        lot_use(lot=LotFactory(), session=session, volume_ml=volume)
    assert excinfo.value.field == "volume_ml"


def test_it_refuses_use_in_a_cancelled_session(session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    session.refresh_from_db()
    with pytest.raises(DomainError, match="cancelled"):
        lot_use(lot=LotFactory(), session=session, volume_ml=Decimal("1"))


def test_reversing_a_use_puts_the_volume_back(session):
    lot = LotFactory(quantity_received_ml=Decimal("10"))
    usage = lot_use(lot=lot, session=session, volume_ml=Decimal("4"))
    lot_usage_reverse(usage=usage)
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("10")
    assert not LotUsage.objects.exists()


def test_reversing_the_same_use_twice_puts_the_volume_back_once(session):
    lot = LotFactory(quantity_received_ml=Decimal("10"))
    usage = lot_use(lot=lot, session=session, volume_ml=Decimal("4"))
    stale = LotUsage.objects.get(pk=usage.pk)
    lot_usage_reverse(usage=usage)
    with pytest.raises(DomainError, match="already removed"):
        lot_usage_reverse(usage=stale)
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("10")


def test_receiving_a_lot_sets_its_stock(clinic, manager_user):
    product = ProductFactory()
    lot = lot_receive(
        product=product,
        lot_number=" A123 ",
        expiry_date=dt.date(2031, 1, 1),
        quantity_ml=Decimal("25"),
        received_on=dt.date(2030, 1, 1),
        by=manager_user,
    )
    assert lot.lot_number == "A123"
    assert lot.quantity_remaining_ml == Decimal("25")


def test_it_refuses_the_same_lot_number_twice_for_one_product(clinic):
    lot = LotFactory(lot_number="A1")
    with pytest.raises(DomainError, match="already in stock") as excinfo:
        lot_receive(
            product=lot.product,
            lot_number="a1",
            expiry_date=dt.date(2031, 1, 1),
            quantity_ml=Decimal("5"),
            received_on=dt.date(2030, 1, 1),
        )
    assert excinfo.value.field == "lot_number"
    # Another product may have a lot with the same number.
    lot_receive(
        product=ProductFactory(),
        lot_number="A1",
        expiry_date=dt.date(2031, 1, 1),
        quantity_ml=Decimal("5"),
        received_on=dt.date(2030, 1, 1),
    )


def test_it_refuses_a_lot_already_expired_on_arrival(clinic):
    with pytest.raises(DomainError, match="already expired"):
        lot_receive(
            product=ProductFactory(),
            lot_number="OLD",
            expiry_date=dt.date(2029, 12, 31),
            quantity_ml=Decimal("5"),
            received_on=dt.date(2030, 1, 1),
        )
    assert not Lot.objects.exists()


def test_product_save_replaces_composition_and_evidence(clinic):
    data = ProductData(
        name="Hydra Boost",
        manufacturer="Meso Labs",
        registration_body="MHRA",
        registration_number="X1",
    )
    product = product_save(
        data=data,
        ingredients=[IngredientData("Hyaluronic acid", "10 mg/ml"), IngredientData("Lidocaine")],
        evidence=[EvidenceData("clinical_trial", "https://example.test/trial", "RCT 2019")],
    )
    product_save(
        product=product,
        data=data,
        ingredients=[IngredientData("Glycine")],
        evidence=[],
    )
    product.refresh_from_db()
    assert product.ingredient_names() == ["glycine"]
    assert not product.evidence.exists()


def test_it_refuses_a_duplicate_product(clinic):
    ProductFactory(name="Hydra Boost", manufacturer="Meso Labs")
    with pytest.raises(DomainError, match="already in the register"):
        product_save(
            data=ProductData(name="hydra boost", manufacturer="MESO LABS"),
            ingredients=[],
            evidence=[],
        )
    assert Product.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_never_take_more_than_the_lot_holds(
    clinic, practitioner_profile, room, face
):
    session = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=dt.datetime(2030, 6, 10, 9, 0, tzinfo=dt.UTC),
    )
    lot = LotFactory(quantity_received_ml=Decimal("10"))
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def use() -> None:
        try:
            barrier.wait()
            lot_use(lot=Lot.objects.get(pk=lot.pk), session=session, volume_ml=Decimal("3"))
            outcomes.append("ok")
        except InsufficientStock:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lot.refresh_from_db()
    assert outcomes.count("ok") == 3
    assert outcomes.count("refused") == 5
    assert lot.quantity_remaining_ml == Decimal("1")
    assert LotUsage.objects.count() == 3
