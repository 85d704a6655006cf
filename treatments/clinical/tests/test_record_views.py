"""The session record and its photos over HTTP: safety refusals beside the field, lots, EXIF,
bad uploads."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from treatments.clinical.models import (
    ClinicalPhoto,
    SessionRecord,
)
from treatments.models import Session

from .factories import make_consent, make_screening, png_bytes

pytestmark = pytest.mark.django_db

# --- record --------------------------------------------------------------------------------


def _record_post(**overrides):
    data = {
        "screening_reconfirmed": "on",
        "area_cleansed": "on",
        "photos_taken": "on",
        "technique": "syringe",
        "depth": "superficial",
        "spacing_mm": "10",
        "zones": ["cheeks"],
        "reactions_none": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_safety_refusal_shows_beside_the_field_and_saves_nothing(
    session, patient, face, practitioner, practitioner_profile
):
    make_screening(patient, practitioner_profile.user, pacemaker="")
    make_consent(patient, face, practitioner_profile.user)
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    response = practitioner.post(url, _record_post(technique="electric"))
    assert response.status_code == 200
    assert "pacemaker" in " ".join(response.context["form"].errors["technique"])
    assert not SessionRecord.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spacing_mm", "0"),
        ("spacing_mm", "ten"),
        ("zones", ["moon"]),
        ("laser_on", "2026-02-30"),
        ("notes", "x" * 10_000),
        ("notes", "\x00"),
        ("anaesthetic_minutes", "-5"),
    ],
)
def test_bad_record_input_gets_a_field_message(session, ready, practitioner, field, value):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    response = practitioner.post(url, _record_post(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SessionRecord.objects.exists()


def test_the_record_flow_over_http(session, ready, lot, practitioner):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    assert practitioner.post(url, _record_post(notes="😀 <b>fine</b>")).status_code == 302
    product_url = reverse("clinical:record_product", kwargs={"session_pk": session.pk})
    response = practitioner.post(product_url, {"lot": lot.pk, "volume_ml": "500"})
    assert response.status_code == 400
    assert practitioner.post(product_url, {"lot": lot.pk, "volume_ml": "2"}).status_code == 302
    sign_url = reverse("clinical:record_sign", kwargs={"session_pk": session.pk})
    assert practitioner.post(sign_url, {"ended_at": "not a time"}).status_code == 400
    ended = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/London")
    )
    response = practitioner.post(sign_url, {"ended_at": ended.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    page = practitioner.get(url).content.decode()
    assert "&lt;b&gt;fine&lt;/b&gt;" in page
    assert "Add addendum" in page


def test_a_record_saved_redirects_without_reading_the_page_it_does_not_draw(
    session, ready, lot, practitioner, django_assert_max_num_queries
):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    # 19: one of them reads the answers the patient reported at home (none here).
    with django_assert_max_num_queries(19):
        assert practitioner.post(url, _record_post()).status_code == 302
    # The lot list is still offered on the page drawn afterwards.
    assert f"Hydra Cocktail · lot {lot.lot_number}" in practitioner.get(url).content.decode()


def test_an_expired_lot_posted_to_the_record_is_refused_with_a_reason(session, ready, practitioner):
    from treatments.products.tests.factories import LotFactory

    record_url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    practitioner.post(record_url, _record_post())
    expired = LotFactory(expiry_date=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    response = practitioner.post(
        reverse("clinical:record_product", kwargs={"session_pk": session.pk}),
        {"lot": expired.pk, "volume_ml": "1"},
    )
    assert response.status_code == 400
    assert "expired" in " ".join(response.context["product_form"].errors["lot"])


# --- photos --------------------------------------------------------------------------------


def test_photos_need_photo_consent(session, patient, face, practitioner, practitioner_profile):
    make_screening(patient, practitioner_profile.user)
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    data = {"stage": "before", "zone": "cheeks", "view": "frontal"}
    response = practitioner.post(url, data | {"image": SimpleUploadedFile("a.png", png_bytes())})
    assert response.status_code == 200
    assert "consented to photos" in response.content.decode()
    assert not ClinicalPhoto.objects.exists()


def test_an_uploaded_photo_loses_its_exif(session, ready, practitioner):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    raw = png_bytes(fmt="JPEG", exif=exif.tobytes())
    assert b"PhoneMaker" in raw
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url,
        {
            "stage": "before",
            "zone": "cheeks",
            "view": "frontal",
            "image": SimpleUploadedFile("p.jpg", raw, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert b"PhoneMaker" not in stored
    assert not Image.open(__import__("io").BytesIO(stored)).getexif()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("a.png", b"not an image"),
        SimpleUploadedFile("a.png", b""),
        SimpleUploadedFile("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ],
)
def test_a_non_image_is_refused_with_a_message(session, ready, practitioner, upload):
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url, {"stage": "before", "zone": "cheeks", "view": "frontal", "image": upload}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ClinicalPhoto.objects.exists()


def test_an_oversized_image_is_refused(session, ready, practitioner, settings):
    settings.UPLOAD_MAX_PIXELS = 100 * 100
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url,
        {
            "stage": "before",
            "zone": "cheeks",
            "view": "frontal",
            "image": SimpleUploadedFile("a.png", png_bytes(size=(300, 200))),
        },
    )
    assert "pixels" in " ".join(response.context["form"].errors["image"])
