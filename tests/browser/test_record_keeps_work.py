"""The session record never loses what was typed: parts save on their own (htmx), the form
autosaves a draft, and leaving with unsaved edits asks first."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client

from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.clinical.models import RecordDraft, ScreeningRule, SessionRecord
from treatments.clinical.services.records import record_save
from treatments.clinical.tests.factories import make_consent, make_screening, record_data
from treatments.models import Session
from treatments.products.models import LotUsage
from treatments.products.tests.factories import IngredientFactory, LotFactory
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]

NOTES = "Patient relaxed; slight erythema on the left cheek."


@pytest.fixture
def drafted(transactional_db, clinic, practitioner_profile, room, face):
    """An arrived session whose record is saved (not signed), ready for products."""
    if not ScreeningRule.objects.exists():
        migration = importlib.import_module(
            "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
        )
        migration.seed(django_apps, None)
    user = practitioner_profile.user
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    make_screening(patient, user)
    make_consent(patient, face, user)
    session = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        - dt.timedelta(minutes=40),
        status=Session.Status.ARRIVED,
    )
    record_save(session=session, by=user, data=record_data(zones=["cheeks"]))
    lot = LotFactory(product__name="Hydra Cocktail", lot_number="HC-2291")
    IngredientFactory(product=lot.product, name="Hyaluronic acid")
    return session, lot


def _open(page, live_server, session, practitioner_profile) -> None:
    # Signed in (password and second factor) by the test client; the sign-in pages have their
    # own browser tests (test_second_factor.py).
    client = login_verified(Client(), practitioner_profile.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"/clinical/sessions/{session.pk}/record/")
    # Marks this document: a full reload would lose it.
    page.evaluate("window.notReloaded = true")


def _type_notes(page, text: str = NOTES) -> None:
    # Typed key by key, as a person does (a user gesture: beforeunload may then ask).
    page.get_by_label("Notes").click()
    page.keyboard.type(text)


def test_typed_notes_and_ticked_areas_survive_adding_and_removing_a_product(
    live_server, page_at_both_widths, screenshots, practitioner_profile, drafted
):
    page = page_at_both_widths  # desktop, then a tablet (820 x 1180)
    session, lot = drafted
    _open(page, live_server, session, practitioner_profile)
    _type_notes(page)
    page.get_by_label("Forehead").check()
    page.get_by_label("Product and lot").select_option(
        label=f"Hydra Cocktail · lot HC-2291 · exp {lot.expiry_date:%d %b %Y}"
    )
    page.get_by_label("Volume (ml)").fill("2.5")
    page.get_by_role("button", name="Add product").click()
    page.get_by_text("Product recorded").wait_for()
    page.get_by_text("Hydra Cocktail · lot HC-2291 · 2.50 ml").wait_for()
    assert page.get_by_label("Notes").input_value() == NOTES
    assert page.get_by_label("Forehead").is_checked()
    assert page.evaluate("window.notReloaded === true")
    assert LotUsage.objects.filter(session=session).count() == 1
    page.screenshot(path=screenshots / "record-product-in-place.png", full_page=True)

    page.get_by_role("button", name="Remove").click()
    page.get_by_text("Product line removed").wait_for()
    assert page.get_by_label("Notes").input_value() == NOTES
    assert page.evaluate("window.notReloaded === true")
    assert not LotUsage.objects.filter(session=session).exists()

    # Then "Save record" saves the notes, in place as well.
    page.get_by_role("button", name="Save record").click()
    page.get_by_text("Record saved").wait_for()
    assert SessionRecord.objects.get(session=session).notes == NOTES
    assert set(SessionRecord.objects.get(session=session).zones) == {"cheeks", "forehead"}


def test_leaving_with_unsaved_edits_asks_first(
    live_server, page_at_both_widths, practitioner_profile, drafted
):
    page = page_at_both_widths  # desktop, then a tablet (820 x 1180)
    session, _ = drafted
    _open(page, live_server, session, practitioner_profile)
    dialogs: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on page"

    page.on("dialog", answer)
    _type_notes(page, "Half a sentence")
    page.get_by_role("link", name="Photos", exact=True).click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/clinical/sessions/{session.pk}/record/")
    assert page.get_by_label("Notes").input_value() == "Half a sentence"


def test_an_autosaved_draft_is_there_after_a_reload_and_leaving_then_asks_nothing(
    live_server, page, practitioner_profile, drafted
):
    session, _ = drafted
    _open(page, live_server, session, practitioner_profile)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    _type_notes(page)
    page.get_by_text("Draft kept").wait_for()
    draft = RecordDraft.objects.get(session=session)
    assert draft.data["notes"] == NOTES
    assert SessionRecord.objects.get(session=session).notes == ""  # a draft is not the record

    page.get_by_role("link", name="Photos", exact=True).click()
    page.wait_for_url(f"**/clinical/sessions/{session.pk}/photos/")
    assert dialogs == []
    page.goto(f"/clinical/sessions/{session.pk}/record/")
    assert page.get_by_label("Notes").input_value() == NOTES
    page.get_by_text("Draft kept").wait_for()
