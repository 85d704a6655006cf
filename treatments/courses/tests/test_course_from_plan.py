"""'Start a course from this plan' takes the plan's protocol, practitioner and session count."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.tests.factories import PatientFactory
from treatments.clinical.models import Consultation
from treatments.courses.models import Course

from .factories import ProtocolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(practitioner_profile, face):
    ProtocolFactory(name="Hair", default_session_type=face)
    hair_loss = ProtocolFactory(
        name="Hair loss (scalp)", sessions_count=4, default_session_type=face
    )
    consultation = Consultation.objects.create(
        patient=PatientFactory(),
        practitioner=practitioner_profile.user,
        concerns=["hair_loss"],
        skin_type="normal",
        fitzpatrick=2,
        hydration="low",
        elasticity="low",
        sensitivity="low",
        plan_protocol="Hair loss (scalp): 6 sessions 2-3 weeks apart",
        plan_sessions=6,
        signed_at=timezone.now(),
    )
    return consultation, hair_loss


def _selected(html: str, name: str) -> str | None:
    match = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert match is not None, f"no <select name={name}>"
    select = match.group(0)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else None


def test_the_course_form_opened_from_a_plan_is_filled_from_the_plan(
    practitioner, practitioner_profile, plan
):
    consultation, hair_loss = plan
    url = reverse("courses:course_create", args=[consultation.patient_id])
    html = practitioner.get(f"{url}?consultation={consultation.pk}").content.decode()
    assert _selected(html, "protocol") == str(hair_loss.pk)
    assert _selected(html, "practitioner") == str(practitioner_profile.pk)
    assert _selected(html, "consultation") == str(consultation.pk)
    assert re.search(r'name="sessions_count" value="6"', html)
    assert "Hair loss (scalp): 6 sessions" in html


def test_a_course_started_from_the_filled_form_follows_the_plan(
    practitioner, practitioner_profile, plan
):
    consultation, hair_loss = plan
    url = reverse("courses:course_create", args=[consultation.patient_id])
    practitioner.post(
        url,
        {
            "protocol": hair_loss.pk,
            "practitioner": practitioner_profile.pk,
            "consultation": consultation.pk,
            "sessions_count": "",
        },
    )
    course = Course.objects.get()
    assert (course.protocol, course.practitioner, course.sessions_count) == (
        hair_loss,
        practitioner_profile,
        6,
    )
    assert course.steps.count() == 6


def test_another_patient_s_consultation_fills_nothing(practitioner, plan):
    consultation, _ = plan
    other = PatientFactory()
    url = reverse("courses:course_create", args=[other.pk])
    html = practitioner.get(f"{url}?consultation={consultation.pk}").content.decode()
    assert _selected(html, "protocol") in (None, "")
    assert "Hair loss (scalp): 6 sessions" not in html
