"""The manager's clinical settings over HTTP: screening rules, validity, consent texts."""

import pytest
from django.urls import reverse

from treatments.clinical.models import (
    ScreeningRule,
)
from treatments.clinical.selectors import consent_text_current

pytestmark = pytest.mark.django_db

# --- manager: rules, settings, consent texts -----------------------------------------------


def test_the_manager_edits_a_rule_and_the_screening_validity(manager, practitioner):
    rule = ScreeningRule.objects.get(code="keloid")
    url = reverse("clinical:screening_rule_edit", kwargs={"pk": rule.pk})
    data = {"question": rule.question, "severity": "absolute", "scope": "all", "position": 5}
    assert practitioner.post(url, data).status_code == 403
    assert manager.post(url, data | {"active": "on"}).status_code == 302
    rule.refresh_from_db()
    assert rule.severity == "absolute"
    response = manager.post(url, data | {"scope": "technique"})
    assert "technique" in response.context["form"].errors
    settings_url = reverse("clinical:screening_rules")
    assert manager.post(settings_url, {"screening_valid_months": "99"}).status_code == 200
    assert manager.post(settings_url, {"screening_valid_months": "3"}).status_code == 302
    from treatments.clinical.models import ClinicalSettings

    assert ClinicalSettings.get().screening_valid_months == 3


def test_the_manager_adds_an_electric_device_rule(manager):
    url = reverse("clinical:screening_rule_create")
    response = manager.post(
        url,
        {
            "question": "Metal dental braces?",
            "severity": "relative",
            "scope": "technique",
            "technique": "electric",
            "position": "200",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = ScreeningRule.objects.get(question="Metal dental braces?")
    assert (rule.code, rule.technique) == ("metal-dental-braces", "electric")


def test_the_manager_publishes_a_new_consent_version(manager, face, patient, practitioner):
    url = reverse("clinical:consent_texts")
    response = manager.post(url, {"session_type": face.pk, "title": "Face v2", "body": "New"})
    assert response.status_code == 302
    assert consent_text_current(session_type=face).version == 2
    assert manager.post(url, {"session_type": face.pk, "title": "", "body": ""}).status_code == 200
