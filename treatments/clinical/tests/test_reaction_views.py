"""Reactions over HTTP: the same-day dashboard, patient self-reports, timing checks."""

import datetime as dt

import pytest
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from treatments.clinical.models import (
    Reaction,
)
from treatments.clinical.services.reactions import reaction_report

pytestmark = pytest.mark.django_db

# --- reactions and dashboard ----------------------------------------------------------------


def test_a_severe_reaction_is_on_the_dashboard_the_same_day(session, practitioner, therapist):
    url = reverse("clinical:reaction_create", kwargs={"session_pk": session.pk})
    onset = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    response = practitioner.post(
        url,
        {
            "type": "allergic",
            "severity": "severe",
            "onset": onset.strftime("%Y-%m-%dT%H:%M"),
            "description": "Hives on the neck",
        },
    )
    assert response.status_code == 302
    reaction = Reaction.objects.get()
    dashboard = therapist.get(reverse("clinical:dashboard"))
    assert reaction in dashboard.context["severe_today"]
    assert "Allergic reaction" in dashboard.content.decode()


def test_a_patient_self_report_is_recorded_without_a_user(session):
    reaction = reaction_report(
        session=session,
        patient=session.patient,
        type="swelling",
        severity="moderate",
        onset=dt.datetime.now(dt.UTC),
        description="Swollen cheek",
        source="patient",
    )
    assert reaction.reported_by is None and reaction.source == "patient"
    assert AuditEntry.objects.filter(object_type="reaction", actor=None).exists()


def test_a_reaction_cannot_start_before_its_session(session, practitioner):
    url = reverse("clinical:reaction_create", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url, {"type": "pain", "severity": "mild", "onset": "2001-01-01T10:00"}
    )
    assert "onset" in response.context["form"].errors
    assert not Reaction.objects.exists()
