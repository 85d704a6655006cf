"""The consultation's skin assessment starts empty and must be filled in."""

import re

import pytest
from django.urls import reverse

from treatments.clinical.models import Consultation

from .test_consultation_views import CONSULTATION

pytestmark = pytest.mark.django_db

ASSESSMENT = ("skin_type", "fitzpatrick", "hydration", "elasticity", "sensitivity")


def test_the_skin_assessment_starts_with_nothing_selected(practitioner, patient):
    page = practitioner.get(reverse("clinical:consultation_create", args=[patient.pk]))
    html = page.content.decode()
    for name in ASSESSMENT:
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        assert "selected" not in select.replace('value="" selected', ""), name
        assert '<option value="" selected>' in select, name


def test_a_consultation_with_the_assessment_left_empty_is_refused_beside_each_field(
    practitioner, patient
):
    data = {**CONSULTATION, **dict.fromkeys(ASSESSMENT, "")}
    response = practitioner.post(reverse("clinical:consultation_create", args=[patient.pk]), data)
    html = response.content.decode()
    assert "Choose the skin type you assessed." in html
    assert "Choose the Fitzpatrick type you assessed." in html
    assert "Choose the sensitivity level you assessed." in html
    assert not Consultation.objects.exists()


def test_a_filled_assessment_is_saved_as_given(practitioner, patient):
    practitioner.post(reverse("clinical:consultation_create", args=[patient.pk]), CONSULTATION)
    saved = Consultation.objects.get()
    assert (saved.skin_type, saved.fitzpatrick, saved.elasticity) == ("dry", 3, "moderate")
