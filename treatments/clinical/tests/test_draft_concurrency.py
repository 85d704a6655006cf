"""Autosave under real concurrency (PostgreSQL), through the real record views.

Each thread is its own signed-in practitioner client on its own connection. Autosaves of one
record queue on the session row that every record write locks first: two at once leave one
draft and an audit entry each, never a 500. An autosave racing the signature: either the draft
came first and signing asks for "Save record", or the signature came first and the late
autosave is refused as "signed". Never both: a signed record never has a newer draft that
the signature left out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.clinical.models import RecordDraft, SessionRecord
from treatments.clinical.services.records import record_product_add, record_save
from treatments.models import Session
from treatments.selectors import clinic_zone
from treatments.tests.factories import RoomFactory, SessionFactory
from treatments.tests.test_booking_concurrency import race

from .factories import make_consent, make_screening, record_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HTMX = {"HTTP_HX_REQUEST": "true"}
N = 10
ROUNDS = 8


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    login_verified(client, user)
    return client


def _arrived(face, profile, room, patient=None, minutes_ago: int = 30) -> Session:
    return SessionFactory.create(
        patient=patient or PatientFactory(),
        session_type=face,
        practitioner=profile,
        room=room,
        starts_at=dt.datetime.now(dt.UTC).replace(microsecond=0)
        - dt.timedelta(minutes=minutes_ago),
        status=Session.Status.ARRIVED,
    )


def _autosave(user, session: Session, notes: str):
    def post():
        url = reverse("clinical:record_draft", args=[session.pk])
        return _client(user).post(url, {"notes": notes, "zones": ["cheeks"]}, **HTMX)

    return post


def _sign(user, session: Session):
    def post():
        ended = timezone.localtime(timezone.now() - dt.timedelta(minutes=1), clinic_zone())
        url = reverse("clinical:record_sign", args=[session.pk])
        return _client(user).post(url, {"ended_at": ended.strftime("%Y-%m-%dT%H:%M")})

    return post


def test_ten_autosaves_of_one_record_at_once_keep_one_draft(
    face, practitioner_profile, room, clinic
):
    user = practitioner_profile.user
    session = _arrived(face, practitioner_profile, room)

    responses = race([_autosave(user, session, f"typed {i}") for i in range(N)])

    assert [r for r in responses if not hasattr(r, "status_code")] == []
    assert [r.status_code for r in responses] == [200] * N
    assert all("Draft kept" in r.content.decode() for r in responses)
    draft = RecordDraft.objects.get(session=session)
    assert draft.data["notes"] in {f"typed {i}" for i in range(N)}
    trail = AuditEntry.objects.filter(object_type="recorddraft", object_id=draft.pk)
    assert trail.filter(action=AuditEntry.Action.CREATE).count() == 1
    assert trail.filter(action=AuditEntry.Action.UPDATE).count() == N - 1


def test_an_autosave_racing_the_signature_never_leaves_typed_words_out_of_a_signed_record(
    face, practitioner_profile, clinic, lot
):
    user = practitioner_profile.user
    signed_first = drafted_first = 0
    for i in range(ROUNDS):
        patient = PatientFactory()
        make_screening(patient, user)
        make_consent(patient, face, user)
        # One practitioner: each round's session an hour and more before the next.
        room = RoomFactory(name=f"Room {i + 10}")
        session = _arrived(face, practitioner_profile, room, patient, minutes_ago=30 + 70 * i)
        record = record_save(session=session, by=user, data=record_data(notes="As saved"))
        record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)

        autosave, sign = race([_autosave(user, session, "Words typed late"), _sign(user, session)])

        assert (autosave.status_code, sign.status_code) in {(409, 302), (200, 400)}, (
            autosave.status_code,
            sign.status_code,
            autosave.content.decode()[:500],
        )
        record.refresh_from_db()
        assert record.notes == "As saved"
        if sign.status_code == 302:
            signed_first += 1
            assert record.is_signed
            assert "Draft not kept: This record is signed" in autosave.content.decode()
            assert not RecordDraft.objects.filter(session=session).exists()
        else:
            drafted_first += 1
            assert not record.is_signed
            assert "not in the record yet" in sign.content.decode()
            assert RecordDraft.objects.get(session=session).data["notes"] == "Words typed late"
        signs = AuditEntry.objects.filter(action=AuditEntry.Action.SIGN, object_id=record.pk)
        assert signs.filter(object_type="sessionrecord").count() == int(record.is_signed)
    assert signed_first + drafted_first == ROUNDS
    assert SessionRecord.objects.filter(signed_at__isnull=False).count() == signed_first
