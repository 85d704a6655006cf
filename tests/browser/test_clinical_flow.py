"""A practitioner's clinical flow, clicked through: consultation, screening, consent with a drawn
signature, the session record with a product lot, before/after photos side by side."""

from __future__ import annotations

import datetime as dt
import importlib
import io

import pytest
from django.apps import apps as django_apps
from PIL import Image, ImageDraw

from patients.tests.factories import PatientFactory
from tests.browser.conftest import log_in
from treatments.clinical.models import (
    ClinicalPhoto,
    ConsentSignature,
    Consultation,
    Screening,
    ScreeningRule,
    SessionRecord,
)
from treatments.models import Session
from treatments.products.tests.factories import IngredientFactory, LotFactory
from treatments.tests.factories import SessionFactory

pytestmark = [pytest.mark.browser]


def _seed_clinical_defaults() -> None:
    # Transactional tests flush the tables, data migrations included; put the defaults back.
    if not ScreeningRule.objects.exists():
        migration = importlib.import_module(
            "treatments.clinical.migrations.0004_seed_screening_rules_and_consent"
        )
        migration.seed(django_apps, None)


def _photo(path, color, label) -> str:
    image = Image.new("RGB", (800, 600), color)
    ImageDraw.Draw(image).text((20, 20), label, fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_a_practitioner_records_a_whole_clinical_visit(
    transactional_db,
    live_server,
    page,
    screenshots,
    tmp_path,
    clinic,
    practitioner_profile,
    room,
    face,
):
    _seed_clinical_defaults()
    patient = PatientFactory(first_name="Jane", last_name="Austen")
    session = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        - dt.timedelta(minutes=40),
        status=Session.Status.ARRIVED,
    )
    lot = LotFactory(product__name="Hydra Cocktail", lot_number="HC-2291")
    IngredientFactory(product=lot.product, name="Hyaluronic acid")
    log_in(page, practitioner_profile.user.username)

    # Consultation: concerns, skin assessment, risks, plan; then signed.
    page.goto(f"/clinical/patients/{patient.pk}/")
    page.get_by_role("link", name="New consultation").click()
    page.get_by_label("Skin rejuvenation / hydration").check()
    page.get_by_label("Fine lines").check()
    page.get_by_label("Goals").fill("Brighter, more hydrated skin")
    page.get_by_label("Skin type").select_option("dry")
    page.get_by_label("Fitzpatrick type").select_option("3")
    page.get_by_label("Hydration", exact=False).and_(page.locator("select")).select_option("low")
    page.get_by_label("Elasticity").select_option("moderate")
    page.get_by_label("Sensitivity").select_option("low")
    page.get_by_label("Risks explained to the patient").check()
    page.get_by_label("Recommendation").fill("Hyaluronic acid cocktail, superficial")
    page.get_by_label("Cheeks").check()
    page.get_by_label("Hydra Cocktail").check()
    page.get_by_label("Plan: protocol").fill("4 sessions two weeks apart")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Sign").click()
    page.get_by_text("Consultation signed").wait_for()
    assert Consultation.objects.get(patient=patient).is_signed

    # Screening: every question answered; nothing declared.
    page.goto(f"/clinical/patients/{patient.pk}/screenings/new/")
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.get_by_role("button", name="Record screening").click()
    page.get_by_text("Screening recorded").wait_for()
    assert Screening.objects.filter(patient=patient).count() == 1

    # Consent with a signature drawn on the canvas, then photo consent for the record.
    page.get_by_role("link", name="Consent", exact=True).click()
    page.get_by_role("row", name="Face v1").get_by_role("link", name="Take consent").click()
    page.get_by_label("Patient's full name").fill("Jane Austen")
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 30, box["y"] + 120 - (step % 3) * 35, steps=3)
    page.mouse.up()
    page.get_by_label("The patient has read the text").check()
    page.screenshot(path=screenshots / "clinical-consent.png", full_page=True)
    page.get_by_role("button", name="Sign consent").click()
    page.get_by_text("Consent signed (version 1)").wait_for()
    signature = ConsentSignature.objects.get(patient=patient)
    assert signature.typed_name == "Jane Austen"
    drawn = Image.open(signature.signature.path)
    assert drawn.getchannel("A").getextrema()[1] > 0
    page.locator("#id_purpose").select_option("clinical")
    page.locator("#id_given").select_option("yes")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Photo consent for clinical record: given").wait_for()

    # The session record: checklist, technique, areas; a product lot; signed and completed.
    page.goto(f"/clinical/sessions/{session.pk}/record/")
    page.get_by_label("Patient confirms nothing has changed").check()
    page.get_by_label("Area cleansed").check()
    page.get_by_label("Before photos taken").check()
    page.get_by_label("Technique").select_option("syringe")
    page.get_by_label("Depth").select_option("superficial")
    page.get_by_label("Cheeks").check()
    # The zone map ticks the area's box when its shape is clicked.
    page.locator("svg [data-zone=forehead]").click()
    assert page.get_by_label("Forehead").is_checked()
    page.get_by_label("No immediate reaction").check()
    page.screenshot(path=screenshots / "clinical-record-form.png", full_page=True)
    page.get_by_role("button", name="Save record").click()
    page.get_by_text("Record saved").wait_for()
    page.get_by_label("Product and lot").select_option(
        label=f"Hydra Cocktail · lot HC-2291 · exp {lot.expiry_date:%d %b %Y}"
    )
    page.get_by_label("Volume (ml)").fill("2.5")
    page.get_by_role("button", name="Add product").click()
    page.get_by_text("Product recorded").wait_for()
    page.get_by_role("button", name="Sign record").click()
    page.get_by_text("Record signed and the session completed").wait_for()
    page.screenshot(path=screenshots / "clinical-record-signed.png", full_page=True)
    record = SessionRecord.objects.get(session=session)
    assert record.is_signed
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED

    # Before and after photos from files, then side by side.
    page.get_by_role("link", name="Photos", exact=True).click()
    for stage, color in (("before", (210, 160, 150)), ("after", (235, 200, 190))):
        page.get_by_label("Stage").select_option(stage)
        page.get_by_label("Area").select_option("cheeks")
        page.get_by_label("View").select_option("frontal")
        page.locator("#id_image").set_input_files(_photo(tmp_path / f"{stage}.png", color, stage))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("Photo added").wait_for()
    assert ClinicalPhoto.objects.filter(session=session).count() == 2
    page.get_by_role("link", name="Compare first and latest, side by side").click()
    pair = page.locator(".compare-pair").first
    first, latest = (
        pair.get_by_role("img", name="First photo"),
        pair.get_by_role("img", name="Latest photo"),
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.compare-pair img')].every(i => i.naturalWidth > 0)"
    )
    assert first.bounding_box()["x"] < latest.bounding_box()["x"]
    assert "Before" in pair.inner_text() and "After" in pair.inner_text()
    page.screenshot(path=screenshots / "clinical-photos-side-by-side.png", full_page=True)
