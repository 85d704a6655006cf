"""A reaction is recorded only against a session that took place (arrived or completed)."""

import datetime as dt

import pytest
from django.urls import reverse

from treatments.clinical.errors import ClinicalError
from treatments.clinical.models import Reaction
from treatments.clinical.services.reactions import reaction_report
from treatments.messaging.tokens import link_make
from treatments.models import Session

pytestmark = pytest.mark.django_db


def _report(session: Session, by=None) -> Reaction:
    # Recorded by the session's own practitioner: a clinician may record reactions.
    by = by or session.practitioner.user
    return reaction_report(
        session=session,
        patient=session.patient,
        type="bruising",
        severity="severe",
        onset=session.starts_at + dt.timedelta(minutes=10),
        description="",
        source="practitioner",
        reported_by=by,
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Session.Status.BOOKED, "has not taken place yet"),
        (Session.Status.CANCELLED, "marked cancelled: it did not take place"),
        (Session.Status.NO_SHOW, "marked no-show: it did not take place"),
    ],
)
def test_a_reaction_on_a_session_that_did_not_take_place_is_refused_with_a_reason(
    session, status, message
):
    Session.objects.filter(pk=session.pk).update(status=status)
    session.refresh_from_db()
    with pytest.raises(ClinicalError, match=message):
        _report(session)
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("status", [Session.Status.ARRIVED, Session.Status.COMPLETED])
def test_a_reaction_on_a_session_that_took_place_is_recorded(session, status):
    Session.objects.filter(pk=session.pk).update(status=status)
    session.refresh_from_db()
    assert _report(session).session_id == session.pk


def test_the_reaction_button_shows_only_on_sessions_that_took_place(practitioner, session, patient):
    url = reverse("clinical:reaction_create", args=[session.pk])
    assert url in practitioner.get(reverse("clinical:patient", args=[patient.pk])).content.decode()
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    page = practitioner.get(reverse("clinical:patient", args=[patient.pk])).content.decode()
    assert url not in page


def test_the_practitioner_s_form_says_why_a_cancelled_session_takes_no_reaction(
    practitioner, session
):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    onset = (session.starts_at + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    response = practitioner.post(
        reverse("clinical:reaction_create", args=[session.pk]),
        {"type": "bruising", "severity": "mild", "onset": onset, "description": "x"},
    )
    assert "it did not take place" in response.content.decode()
    assert not Reaction.objects.exists()


def test_a_patient_link_for_a_session_that_did_not_take_place_records_nothing(client, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    token = link_make(
        action="reaction",
        payload={"s": session.pk, "p": session.patient_id},
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
    )
    url = reverse("messaging:link_reaction", args=[token])
    page = client.get(url)
    posted = client.post(url, {"type": "pain", "severity": "severe", "onset": "2026-01-01T10:00"})
    assert page.status_code == posted.status_code == 409
    assert "did not take place" in page.content.decode()
    assert not Reaction.objects.exists()
