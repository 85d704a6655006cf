"""Recording products under real concurrency, through the real record views (PostgreSQL).

Each thread is its own logged-in practitioner client on its own connection. The record writes
lock the session row, then the lot row, and nothing else (of=self): the audit entry's and the
product line's foreign-key checks never wait on a lock another record page holds, so nothing
deadlocks and nothing answers 500; the stock never goes below zero, and every refusal is the
"only N ml left" message beside the volume.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.clinical.models import ConsentText, ScreeningRule
from treatments.models import Session
from treatments.products.models import Lot, LotUsage
from treatments.products.tests.factories import IngredientFactory, LotFactory
from treatments.tests.factories import SessionFactory, StaffProfileFactory
from treatments.tests.test_booking_concurrency import race

from .factories import make_consent, make_photo_consent, make_screening

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 20


@pytest.fixture
def small_lot(clinic):
    # Room for 10 of the 20 one-millilitre lines.
    lot = LotFactory(
        product__name="Hydra Cocktail",
        quantity_received_ml=Decimal("10"),
        quantity_remaining_ml=Decimal("10"),
    )
    IngredientFactory(product=lot.product, name="Hyaluronic acid")
    return lot


def _record_ready(patient, face, staff, room, minutes_ago: int, client: Client) -> Session:
    session: Session = SessionFactory.create(
        patient=patient,
        session_type=face,
        practitioner=staff,
        room=room,
        starts_at=dt.datetime.now(dt.UTC).replace(microsecond=0)
        - dt.timedelta(minutes=minutes_ago),
        status=Session.Status.ARRIVED,
    )
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    response = client.post(
        url,
        {
            "technique": "syringe",
            "depth": "superficial",
            "zones": ["cheeks"],
            "spacing_mm": "10",
            "screening_reconfirmed": "on",
            "area_cleansed": "on",
            "photos_taken": "on",
            "reactions_none": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return session


def _add_product(user, session: Session, lot: Lot):
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        return client.post(
            reverse("clinical:record_product", kwargs={"session_pk": session.pk}),
            {"lot": lot.pk, "volume_ml": "1"},
        )

    return post


def _assert_outcome(responses, lot: Lot) -> None:
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] * 10 + [400] * 10, codes
    for refused in (r for r in responses if r.status_code == 400):
        errors = refused.context["product_form"].errors["volume_ml"]
        assert errors == [
            f"Lot {lot.lot_number} of Hydra Cocktail has only 0.00 ml left; 1 ml was entered. "
            "Record the rest against another lot."
        ], errors
    lot.refresh_from_db()
    assert lot.quantity_remaining_ml == Decimal("0")
    assert LotUsage.objects.filter(lot=lot).count() == 10


def test_twenty_clients_adding_a_lot_to_one_record(
    patient, face, practitioner_profile, practitioner, room, small_lot
):
    user = practitioner_profile.user
    make_screening(patient, user)
    make_consent(patient, face, user)
    make_photo_consent(patient, user)
    session = _record_ready(patient, face, practitioner_profile, room, 30, practitioner)
    updates = AuditEntry.objects.filter(action="update", object_type="sessionrecord")
    audit_before = updates.count()

    responses = race([_add_product(user, session, small_lot)] * N)

    _assert_outcome(responses, small_lot)
    # One audit entry per product recorded, none for the refused ones.
    assert updates.count() - audit_before == 10


def test_two_records_drawing_on_one_lot(
    patient, face, practitioner_profile, practitioner, room, room2, small_lot
):
    colleague = StaffProfileFactory(qualification="nurse")
    other_patient = PatientFactory()
    nurse = Client()
    login_verified(nurse, colleague.user)
    for who, by in ((patient, practitioner_profile.user), (other_patient, colleague.user)):
        make_screening(who, by)
        make_consent(who, face, by)
    first = _record_ready(patient, face, practitioner_profile, room, 30, practitioner)
    second = _record_ready(other_patient, face, colleague, room2, 30, nurse)

    calls = [_add_product(practitioner_profile.user, first, small_lot)] * (N // 2) + [
        _add_product(colleague.user, second, small_lot)
    ] * (N // 2)
    responses = race(calls)

    _assert_outcome(responses, small_lot)
    assert {u.session_id for u in LotUsage.objects.filter(lot=small_lot)} <= {first.pk, second.pk}


def test_saving_the_record_while_adding_products_and_reading_the_page_never_deadlocks(
    patient, face, practitioner_profile, practitioner, room, small_lot
):
    # The record form, the product form and the page (whose view writes an audit entry) at
    # once, on one record: each write locks the session row first, so they queue.
    user = practitioner_profile.user
    make_screening(patient, user)
    make_consent(patient, face, user)
    session = _record_ready(patient, face, practitioner_profile, room, 30, practitioner)
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})

    def save(notes: str):
        def post():
            client = Client(raise_request_exception=False)
            login_verified(client, user)
            return client.post(
                url,
                {
                    "technique": "syringe",
                    "depth": "superficial",
                    "zones": ["cheeks"],
                    "spacing_mm": "10",
                    "screening_reconfirmed": "on",
                    "area_cleansed": "on",
                    "photos_taken": "on",
                    "reactions_none": "on",
                    "notes": notes,
                },
            )

        return post

    def read():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        return client.get(url)

    calls = []
    for i in range(N // 4):
        calls += [save(f"note {i}"), _add_product(user, session, small_lot), read, read]
    responses = race(calls)

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert sorted({r.status_code for r in responses}) == [200, 302]
    small_lot.refresh_from_db()
    assert small_lot.quantity_remaining_ml == Decimal("5")


def _managers(user, url: str, data: dict) -> list:
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        return client.post(url, data)

    return race([post] * N)


def test_twenty_managers_adding_one_screening_rule_get_no_error_page(manager_user):
    responses = _managers(
        manager_user,
        reverse("clinical:screening_rule_create"),
        {
            "question": "Metal dental braces?",
            "severity": "relative",
            "scope": "all",
            "position": "200",
            "active": "on",
        },
    )
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert {r.status_code for r in responses} <= {200, 302}
    for refused in (r for r in responses if r.status_code == 200):
        assert refused.context["form"].errors["question"] == [
            "Another rule was added at the same moment; save this one again."
        ]
    saved = ScreeningRule.objects.filter(question="Metal dental braces?")
    assert saved.count() == sum(r.status_code == 302 for r in responses) >= 1


def test_twenty_managers_publishing_one_consent_get_no_error_page(manager_user, face):
    responses = _managers(
        manager_user,
        reverse("clinical:consent_texts"),
        {"session_type": face.pk, "title": "Face v2", "body": "New"},
    )
    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert {r.status_code for r in responses} <= {200, 302}
    for refused in (r for r in responses if r.status_code == 200):
        assert "Another version was published at the same moment; try again." in (
            refused.content.decode()
        )
    published = ConsentText.objects.filter(session_type=face, title="Face v2")
    assert published.count() == sum(r.status_code == 302 for r in responses) >= 1
