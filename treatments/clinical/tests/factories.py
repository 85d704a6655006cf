"""Factories and helpers for clinical tests."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image, ImageDraw

from treatments.clinical.models import ConsentText, ScreeningRule
from treatments.clinical.selectors import consent_text_current
from treatments.clinical.services.consent import consent_sign, photo_consent_set
from treatments.clinical.services.records import RecordData
from treatments.clinical.services.screening import screening_record


def signature_data_url(blank: bool = False) -> str:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line([(10, 80), (120, 20), (290, 70)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def png_bytes(size=(640, 480), color=(200, 150, 140), fmt="PNG", exif=None) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def answers_all_no(**yes: str) -> dict[int, tuple[bool, str]]:
    """Every active rule answered "no", except the rule codes given (value = detail)."""
    answers = {}
    for rule in ScreeningRule.objects.filter(active=True):
        if rule.code in yes:
            answers[rule.pk] = (True, yes[rule.code] or "details")
        else:
            answers[rule.pk] = (False, "")
    return answers


def make_screening(patient, by, taken_at=None, **yes):
    return screening_record(
        patient=patient, by=by, answers=answers_all_no(**yes), taken_at=taken_at
    )


def make_consent(patient, session_type, by):
    text = consent_text_current(session_type=session_type)
    if text is None:
        text = ConsentText.objects.create(
            session_type=session_type, version=1, title="Consent", body="I consent."
        )
    return consent_sign(
        patient=patient,
        text=text,
        typed_name=patient.full_name,
        signature_data_url=signature_data_url(),
        by=by,
    )


def make_photo_consent(patient, by, given=True):
    return photo_consent_set(patient=patient, purpose="clinical", given=given, by=by)


def record_data(**overrides) -> RecordData:
    values: dict[str, Any] = {
        "technique": "syringe",
        "depth": "superficial",
        "zones": ["cheeks", "forehead"],
        "screening_reconfirmed": True,
        "area_cleansed": True,
        "photos_taken": True,
        "reactions_none": True,
    }
    values.update(overrides)
    return RecordData(**values)
