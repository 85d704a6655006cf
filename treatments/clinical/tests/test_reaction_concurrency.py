"""Acknowledging a severe reaction under real concurrency (PostgreSQL), through the real view.

Two clinicians see the same alert on the dashboard and click at once (and a few more tabs do
too): the reaction row is locked, so exactly one acknowledgement is recorded and audited; every
other click is told, on the dashboard, that it was already acknowledged. Never a 500.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from tests.support.second_factor import login_verified
from treatments.clinical.models import Reaction
from treatments.clinical.services.reactions import reaction_report
from treatments.tests.factories import StaffProfileFactory
from treatments.tests.test_booking_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 10


def _acknowledge(user, reaction: Reaction):
    def post():
        client = Client(raise_request_exception=False)
        login_verified(client, user)
        return client.post(reverse("clinical:reaction_acknowledge", args=[reaction.pk]))

    return post


def test_two_clinicians_acknowledging_one_severe_reaction_record_it_once(
    session, patient, practitioner_profile
):
    nurse = StaffProfileFactory(qualification="nurse").user
    reaction = reaction_report(
        session=session,
        patient=patient,
        type="allergic",
        severity="severe",
        onset=session.starts_at + dt.timedelta(minutes=20),
        description="Hives on both cheeks",
        source="practitioner",
        reported_by=practitioner_profile.user,
    )
    users = [practitioner_profile.user, nurse] * (N // 2)

    responses = race([_acknowledge(user, reaction) for user in users])

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert [r.status_code for r in responses] == [302] * N
    assert {r["Location"] for r in responses} == {reverse("clinical:dashboard")}
    notes = sorted(str(m) for r in responses for m in get_messages(r.wsgi_request))
    assert notes == ["Acknowledged: it is off the dashboard's alerts."] + [
        "This reaction has already been acknowledged."
    ] * (N - 1)
    reaction.refresh_from_db()
    assert reaction.acknowledged_at is not None
    assert reaction.acknowledged_by in {practitioner_profile.user, nurse}
    trail = AuditEntry.objects.filter(
        action=AuditEntry.Action.ACKNOWLEDGE, object_type="reaction", object_id=reaction.pk
    )
    assert list(trail.values_list("actor", flat=True)) == [reaction.acknowledged_by.pk]
