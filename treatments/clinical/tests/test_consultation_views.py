"""Consultation, screening and consent screens over HTTP: drafts, signing, addenda, bad input."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from treatments.clinical.models import (
    ConsentSignature,
    Consultation,
    Screening,
    ScreeningRule,
)
from treatments.clinical.selectors import consent_text_current

from .factories import signature_data_url

pytestmark = pytest.mark.django_db

# --- consultation -----------------------------------------------------------------------


CONSULTATION = {
    "concerns": ["rejuvenation", "fine_lines"],
    "goals": "Brighter skin",
    "skin_type": "dry",
    "fitzpatrick": "3",
    "hydration": "low",
    "elasticity": "moderate",
    "sensitivity": "low",
    "risks_explained": "on",
    "recommendation": "Hyaluronic acid cocktail",
    "plan_zones": ["cheeks"],
    "plan_protocol": "4 sessions 2 weeks apart",
    "plan_sessions": "4",
}


def test_a_consultation_is_drafted_edited_signed_then_only_takes_addenda(
    patient, practitioner, practitioner_profile, therapist
):
    url = reverse("clinical:consultation_create", kwargs={"patient_pk": patient.pk})
    response = practitioner.post(url, CONSULTATION)
    assert response.status_code == 302
    consultation = Consultation.objects.get(patient=patient)
    assert consultation.fitzpatrick == 3
    edit = reverse("clinical:consultation_edit", kwargs={"pk": consultation.pk})
    assert therapist.post(edit, CONSULTATION | {"goals": "x"}).status_code == 200
    consultation.refresh_from_db()
    assert consultation.goals == "Brighter skin"
    practitioner.post(reverse("clinical:consultation_sign", kwargs={"pk": consultation.pk}))
    consultation.refresh_from_db()
    assert consultation.is_signed
    response = practitioner.post(edit, CONSULTATION | {"goals": "changed"})
    assert "signed" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.goals == "Brighter skin"
    practitioner.post(
        reverse("clinical:consultation_addendum", kwargs={"pk": consultation.pk}),
        {"text": "Patient prefers mornings"},
    )
    assert consultation.addenda.get().author == practitioner_profile.user


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fitzpatrick", "7"),
        ("goals", "x" * 10_000),
        ("goals", "nul\x00byte"),
        ("concerns", []),
        ("plan_sessions", "many"),
        ("skin_type", "<script>"),
    ],
)
def test_bad_consultation_input_gets_a_field_message(patient, practitioner, field, value):
    url = reverse("clinical:consultation_create", kwargs={"patient_pk": patient.pk})
    response = practitioner.post(url, CONSULTATION | {field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Consultation.objects.exists()


# --- screening and consent -----------------------------------------------------------------


def test_a_screening_is_recorded_from_the_form(patient, practitioner):
    data = {f"rule_{rule.pk}": "no" for rule in ScreeningRule.objects.filter(active=True)}
    url = reverse("clinical:screening_create", kwargs={"patient_pk": patient.pk})
    missing = dict(data)
    missing.popitem()
    assert practitioner.post(url, missing).status_code == 200
    assert not Screening.objects.exists()
    assert practitioner.post(url, data).status_code == 302
    assert Screening.objects.filter(patient=patient).count() == 1


def test_each_screening_question_groups_its_answers_under_a_legend(patient, practitioner):
    class Groups(HTMLParser):
        def __init__(self):
            super().__init__()
            self.groups: list[dict] = []
            self.in_legend = False

        def handle_starttag(self, tag, attrs):
            if tag == "fieldset":
                self.groups.append({"legend": "", "radios": 0})
            elif tag == "legend":
                self.in_legend = True
            elif tag == "input" and ("type", "radio") in attrs and self.groups:
                self.groups[-1]["radios"] += 1

        def handle_endtag(self, tag):
            if tag == "legend":
                self.in_legend = False

        def handle_data(self, data):
            if self.in_legend:
                self.groups[-1]["legend"] += data

    url = reverse("clinical:screening_create", kwargs={"patient_pk": patient.pk})
    parser = Groups()
    parser.feed(practitioner.get(url).content.decode())
    questions = list(ScreeningRule.objects.filter(active=True).values_list("question", flat=True))
    assert questions and len(parser.groups) == len(questions)
    for question, group in zip(questions, parser.groups, strict=True):
        assert question in group["legend"] and group["radios"] == 2


def test_consent_is_signed_with_a_drawing_and_the_image_is_served(
    patient, face, practitioner, front_desk
):
    text = consent_text_current(session_type=face)
    url = reverse("clinical:consent_sign", kwargs={"patient_pk": patient.pk, "text_pk": text.pk})
    response = practitioner.post(
        url, {"typed_name": "Jane Doe", "signature": "", "read_aloud": "on"}
    )
    assert response.status_code == 200
    assert "sign in the box" in response.content.decode()
    response = practitioner.post(
        url, {"typed_name": "Jane Doe", "signature": signature_data_url(), "read_aloud": "on"}
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get(patient=patient)
    image_url = reverse("clinical:consent_signature_image", kwargs={"key": signature.key})
    assert practitioner.get(image_url)["Content-Type"] == "image/png"
    assert front_desk.get(image_url).status_code == 403


def test_photo_consent_can_be_given_and_withdrawn(patient, practitioner):
    url = reverse("clinical:photo_consent_change", kwargs={"patient_pk": patient.pk})
    practitioner.post(url, {"purpose": "teaching", "given": "yes"})
    practitioner.post(url, {"purpose": "teaching", "given": "no"})
    practitioner.post(url, {"purpose": "nonsense", "given": "yes"})
    assert list(patient.photo_consents.values_list("given", flat=True)) == [False, True]
