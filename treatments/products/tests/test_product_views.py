import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.clinical.models import SessionRecord
from treatments.models import Session
from treatments.products.models import Lot, Product
from treatments.products.selectors import stock_warnings
from treatments.products.services import lot_use
from treatments.tests.factories import SessionFactory

from .factories import IngredientFactory, LotFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(clinic):
    return LotFactory(lot_number="RC-1")


def _post_product(manager, **overrides):
    data = {
        "name": "Hydra Boost",
        "manufacturer": "Meso Labs",
        "indications": "Dehydrated skin",
        "ingredients": "Hyaluronic acid; 10 mg/ml\nLidocaine",
        "registration_body": "MHRA",
        "device_class": "III",
        "registration_number": "CE-1",
        "low_stock_threshold_ml": "",
        "active": "on",
        "evidence-TOTAL_FORMS": "1",
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "20",
        "evidence-0-kind": "clinical_trial",
        "evidence-0-url": "https://example.test/trial",
        "evidence-0-title": "Split-face RCT",
    }
    data.update(overrides)
    return manager.post(reverse("products:product_create"), data)


def test_the_manager_adds_a_product_with_composition_and_evidence(manager, clinic):
    response = _post_product(manager)
    product = Product.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("products:product_detail", args=[product.pk])
    assert product.ingredient_names() == ["hyaluronic acid", "lidocaine"]
    assert product.evidence.get().kind == "clinical_trial"
    page = manager.get(response.url)
    assert "Split-face RCT" in page.content.decode()


def test_blank_evidence_rows_as_a_browser_sends_them_are_ignored(manager, clinic):
    response = _post_product(
        manager,
        **{
            "evidence-TOTAL_FORMS": "2",
            "evidence-0-url": "",
            "evidence-0-title": "",
            "evidence-1-kind": "clinical_trial",
            "evidence-1-url": "",
            "evidence-1-title": "",
        },
    )
    assert response.status_code == 302
    assert not Product.objects.get().evidence.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 10_000),
        ("manufacturer", "Meso\x00Labs"),
        ("evidence-0-url", "javascript:alert(1)"),
        ("low_stock_threshold_ml", "-5"),
        ("ingredients", "Glycine\nglycine"),
    ],
)
def test_bad_product_input_is_answered_beside_the_field(manager, clinic, field, value):
    response = _post_product(manager, **{field: value})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "invalid-feedback" in (
        response.content.decode()
    )
    assert not Product.objects.exists()


def test_markup_in_a_product_name_is_shown_as_text(manager, clinic):
    _post_product(manager, name="<script>alert(1)</script> 💉")
    product = Product.objects.get()
    page = manager.get(reverse("products:product_detail", args=[product.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "💉" in page


def test_the_manager_receives_a_lot(manager, clinic):
    product = ProductFactory()
    response = manager.post(
        reverse("products:lot_create", args=[product.pk]),
        {
            "lot_number": "B-77",
            "expiry_date": "2031-05-31",
            "received_on": "2030-05-01",
            "quantity_ml": "40",
        },
    )
    assert response.status_code == 302
    lot = Lot.objects.get()
    assert (lot.lot_number, lot.quantity_remaining_ml) == ("B-77", Decimal("40"))


def test_an_impossible_expiry_date_is_refused_beside_the_field(manager, clinic):
    product = ProductFactory()
    response = manager.post(
        reverse("products:lot_create", args=[product.pk]),
        {
            "lot_number": "B",
            "expiry_date": "2031-02-30",
            "received_on": "2030-05-01",
            "quantity_ml": "4",
        },
    )
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()
    assert not Lot.objects.exists()


def test_a_duplicate_lot_number_is_refused_beside_the_field(manager, clinic):
    lot = LotFactory(lot_number="B-1")
    response = manager.post(
        reverse("products:lot_create", args=[lot.product.pk]),
        {
            "lot_number": "B-1",
            "expiry_date": "2035-01-01",
            "received_on": "2030-05-01",
            "quantity_ml": "4",
        },
    )
    assert response.status_code == 200
    assert "already in stock" in response.content.decode()
    assert Lot.objects.count() == 1


def _sessions_using(lot: Lot, count: int, practitioner, room, face) -> None:
    """`count` completed sessions that used `lot`, each with a signed record (a recall counts
    only signed use: treatments/products/tests/test_signed_use.py)."""
    start = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)
    for index in range(count):
        session = SessionFactory.create(
            patient=PatientFactory(),
            practitioner=practitioner,
            room=room,
            session_type=face,
            starts_at=start + dt.timedelta(hours=index),
            status=Session.Status.COMPLETED,
        )
        lot_use(lot=lot, session=session, volume_ml=Decimal("0.5"))
        SessionRecord.objects.create(
            session=session,
            patient=session.patient,
            author=practitioner.user,
            technique="manual",
            depth="superficial",
            signed_at=start,
            signed_by=practitioner.user,
        )


@pytest.mark.parametrize("count", [1, 100])
def test_the_recall_page_runs_a_constant_number_of_queries(
    manager, practitioner_profile, room, face, django_assert_max_num_queries, count
):
    lot = LotFactory(quantity_received_ml=Decimal("100"))
    _sessions_using(lot, count, practitioner_profile, room, face)
    with django_assert_max_num_queries(10):
        response = manager.get(reverse("products:lot_recall", args=[lot.pk]))
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == count + 1
    with django_assert_max_num_queries(10):
        csv_response = manager.get(reverse("products:lot_recall_csv", args=[lot.pk]))
    assert len(list(csv.reader(io.StringIO(csv_response.content.decode())))) == count + 1


def test_the_recall_lists_only_patients_who_received_that_lot(
    manager, practitioner_profile, room, face
):
    lot, other = LotFactory(lot_number="X-1"), LotFactory(lot_number="Y-2")
    alice = PatientFactory(first_name="Alice", last_name="Able", phone="+44 7700 900001")
    bob = PatientFactory(first_name="Bob", last_name="Baker")
    for patient, used in [(alice, lot), (bob, other)]:
        session = SessionFactory(
            patient=patient,
            practitioner=practitioner_profile,
            room=room,
            session_type=face,
            starts_at=dt.datetime(2030, 3, 1, 9 + patient.pk % 5, tzinfo=dt.UTC),
        )
        lot_use(lot=used, session=session, volume_ml=Decimal("1.5"))
    page = manager.get(reverse("products:lot_recall", args=[lot.pk])).content.decode()
    assert "Able, Alice" in page and "Baker" not in page
    response = manager.get(reverse("products:lot_recall_csv", args=[lot.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["last_name"] == "Able"
    assert rows[0]["email"] == alice.email
    assert rows[0]["phone"] == "+44 7700 900001"
    assert rows[0]["lot_number"] == "X-1"
    assert rows[0]["volume_ml"] == "1.50"
    assert rows[0]["practitioner"] == "Ada Doctor"


def test_the_csv_neutralises_spreadsheet_formulas(manager, practitioner_profile, room, face):
    lot = LotFactory()
    patient = PatientFactory(last_name='=HYPERLINK("http://evil.test")', first_name="+1+1")
    session = SessionFactory(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=dt.datetime(2030, 3, 1, 9, tzinfo=dt.UTC),
    )
    lot_use(lot=lot, session=session, volume_ml=Decimal("1"))
    response = manager.get(reverse("products:lot_recall_csv", args=[lot.pk]))
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["last_name"].startswith("'=")
    assert row["first_name"] == "'+1+1"


def test_recall_search_finds_a_lot_by_number(manager, clinic):
    LotFactory(lot_number="ADV-2030-17")
    LotFactory(lot_number="OTHER")
    page = manager.get(reverse("products:recall_search"), {"q": "adv-2030"}).content.decode()
    assert "ADV-2030-17" in page and "OTHER" not in page


@time_machine.travel(dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_stock_warnings_list_low_stock_and_lots_expiring_within_30_days(clinic):
    low = ProductFactory(name="Low", low_stock_threshold_ml=Decimal("10"))
    LotFactory(product=low, quantity_received_ml=Decimal("5"), expiry_date=dt.date(2031, 1, 1))
    plenty = ProductFactory(name="Plenty", low_stock_threshold_ml=Decimal("10"))
    soon = LotFactory(
        product=plenty, quantity_received_ml=Decimal("50"), expiry_date=dt.date(2030, 7, 1)
    )
    LotFactory(product=plenty, quantity_received_ml=Decimal("50"), expiry_date=dt.date(2030, 7, 2))
    expired = LotFactory(
        product=plenty, quantity_received_ml=Decimal("5"), expiry_date=dt.date(2030, 5, 31)
    )
    default_threshold = ProductFactory(name="Default")  # no lots, clinic default 20 ml
    ProductFactory(name="Retired", active=False)

    warnings = stock_warnings()
    assert warnings.today == dt.date(2030, 6, 1)
    assert [item.product for item in warnings.low_stock] == [default_threshold, low]
    assert warnings.expiring == [soon]  # 30 days out is included; 31 is not
    assert warnings.expired_in_stock == [expired]


@time_machine.travel(dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_expired_stock_does_not_count_as_usable(clinic):
    product = ProductFactory(low_stock_threshold_ml=Decimal("10"))
    LotFactory(product=product, quantity_received_ml=Decimal("50"), expiry_date=dt.date(2030, 5, 1))
    assert [item.product for item in stock_warnings().low_stock] == [product]


@time_machine.travel(dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_the_stock_page_and_its_htmx_partial_show_the_warnings(client, manager_user):
    # Log in under the frozen clock: a session made in real time would have expired by 2030.
    manager = login_verified(client, manager_user)
    LotFactory(lot_number="SOON-1", expiry_date=dt.date(2030, 6, 20))
    page = manager.get(reverse("products:stock_dashboard")).content.decode()
    assert "SOON-1" in page and "<html" in page
    partial = manager.get(reverse("products:stock_dashboard"), HTTP_HX_REQUEST="true")
    assert "SOON-1" in partial.content.decode() and "<html" not in partial.content.decode()


@pytest.mark.parametrize("count", [1, 100])
def test_the_register_runs_a_constant_number_of_queries(
    practitioner, clinic, django_assert_max_num_queries, count
):
    for _ in range(count):
        lot = LotFactory()
        IngredientFactory(product=lot.product)
    with django_assert_max_num_queries(8):
        response = practitioner.get(reverse("products:product_list"))
    assert response.status_code == 200


def test_practitioners_see_the_register_without_edit_buttons(practitioner, lot):
    page = practitioner.get(reverse("products:product_detail", args=[lot.product.pk]))
    html = page.content.decode()
    assert lot.lot_number in html
    assert reverse("products:product_edit", args=[lot.product.pk]) not in html
    assert reverse("products:lot_recall", args=[lot.pk]) not in html


def test_the_recall_page_and_its_csv_write_one_audit_entry_each(
    manager, manager_user, practitioner_profile, room, face
):
    lot = LotFactory(quantity_received_ml=Decimal("100"))
    _sessions_using(lot, 3, practitioner_profile, room, face)
    manager.get(reverse("products:lot_recall", args=[lot.pk]))
    recall_entries = AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN)
    [viewed] = recall_entries
    assert (viewed.actor, viewed.action, viewed.object_type, viewed.object_id) == (
        manager_user,
        AuditEntry.Action.VIEW,
        "lot",
        lot.pk,
    )
    assert viewed.note == "lot recall (3 patients)"
    manager.get(reverse("products:lot_recall_csv", args=[lot.pk]))
    [exported] = recall_entries.exclude(pk=viewed.pk)
    assert (exported.actor, exported.action, exported.object_id) == (
        manager_user,
        AuditEntry.Action.EXPORT,
        lot.pk,
    )
    assert exported.note == "lot recall CSV (3 rows)"
