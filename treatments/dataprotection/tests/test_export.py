"""The subject-access export: complete, valid, private to the patient, bounded in queries."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import jsonschema
import pypdf
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from treatments.dataprotection.selectors import patient_export_read
from treatments.messaging.models import Kind, OutboxMessage
from treatments.products.models import LotUsage
from treatments.waitlist.models import Entry as WaitlistEntry
from treatments.waitlist.models import Offer as WaitlistOffer

from .conftest import add_photo, add_session

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "export_schema.json").read_text(encoding="utf-8")
)


def _download(client, patient) -> zipfile.ZipFile:
    response = client.get(reverse("dataprotection:patient_export", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_patient_with_every_kind_of_record_exports_a_zip_that_validates_and_holds_every_id(
    manager, full
):
    archive = _download(manager, full.patient)
    data = json.loads(archive.read("data.json"))
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)
    assert data["patient"]["id"] == full.patient.pk
    assert data["patient"]["last_name"] == "Doe"
    for key, rows in full.objects.items():
        if key == "addenda":
            exported = {a["id"] for r in data["session_records"] for a in r["addenda"]}
        else:
            exported = {row["id"] for row in data[key]}
        assert {row.pk for row in rows} <= exported, key
        assert exported, key
    sent = next(m for m in data["messages"] if m["id"] == full.care.pk)
    assert (sent["kind"], sent["status"], sent["subject"]) == (
        "aftercare_24h",
        "sent",
        "Your aftercare",
    )
    assert data["consultations"][0]["plan_product_ids"] == [full.lot.product_id]


def test_the_photos_and_signatures_in_the_zip_are_byte_equal_to_the_stored_files(manager, full):
    archive = _download(manager, full.patient)
    data = json.loads(archive.read("data.json"))
    with default_storage.open(full.photo.image.name, "rb") as stored:
        assert archive.read(data["photos"][0]["file"]) == stored.read()
    with default_storage.open(full.signature.signature.name, "rb") as stored:
        assert archive.read(data["consent_signatures"][0]["file"]) == stored.read()
    assert sorted(archive.namelist()) == sorted(
        [
            "data.json",
            "summary.pdf",
            data["photos"][0]["file"],
            f"signatures/{full.signature.pk}.png",
        ]
    )


def test_the_pdf_summary_renders_with_the_patients_name_on_its_first_page(practitioner, full):
    archive = _download(practitioner, full.patient)
    reader = pypdf.PdfReader(io.BytesIO(archive.read("summary.pdf")))
    first_page = reader.pages[0].extract_text()
    assert "Jane Doe" in first_page
    assert "Personal details" in first_page


def test_another_patients_data_is_not_in_the_export(manager, full, other):
    archive = _download(manager, full.patient)
    text = archive.read("data.json").decode()
    data = json.loads(text)
    assert "Olive" not in text and "Other" not in text
    assert other.patient.email not in text
    for key, rows in other.objects.items():
        if key in {"products", "lots"}:
            continue  # shared register rows; their own lot is named after them and absent
        ids = {row["id"] for row in data[key]} if key != "addenda" else set()
        assert not ids & {row.pk for row in rows}, key
    assert not any(name.startswith(f"photos/{other.photo.pk}-") for name in archive.namelist())


def test_an_export_writes_exactly_one_audit_entry(manager, manager_user, full):
    before = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    _download(manager, full.patient)
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT)
    assert entries.count() == before + 1
    entry = entries.first()
    assert entry.actor == manager_user and entry.patient == full.patient
    assert (entry.object_type, entry.object_id, entry.note) == (
        "patient",
        full.patient.pk,
        "subject access",
    )


def _grow(full, practitioner_profile, face, room, n):
    user = practitioner_profile.user
    for i in range(n):
        session = add_session(
            full.patient, practitioner_profile, face, room, minutes_ago=60 * 24 * (i + 2)
        )
        add_photo(session, user, color=(10 * i % 255, 20, 30))
        LotUsage.objects.create(lot=full.lot, session=session, volume_ml=Decimal("1"))
        OutboxMessage.objects.create(
            kind=Kind.REMINDER,
            patient=full.patient,
            session=session,
            due_at=session.starts_at - dt.timedelta(days=1),
            expires_at=session.starts_at,
        )
        _wait(full.patient, face, practitioner_profile, room, offers=2)


def _wait(patient, face, practitioner, room, offers):
    now = timezone.now()
    entry = WaitlistEntry.objects.create(
        patient=patient,
        session_type=face,
        earliest=now.date(),
        latest=now.date() + dt.timedelta(days=7),
        joined_at=now,
        status=WaitlistEntry.Status.WITHDRAWN,
    )
    for n in range(offers):
        WaitlistOffer.objects.create(
            entry=entry,
            starts_at=now + dt.timedelta(days=1, hours=n),
            practitioner=practitioner,
            room=room,
            session_type=face,
            created_at=now,
            expires_at=now + dt.timedelta(hours=1),
            status=WaitlistOffer.Status.EXPIRED,
        )


def test_the_export_reads_in_the_same_number_of_queries_at_two_sizes(
    full, practitioner_profile, face, room
):
    _wait(full.patient, face, practitioner_profile, room, offers=0)
    with CaptureQueriesContext(connection) as small:
        small_export = patient_export_read(patient=full.patient)
    _grow(full, practitioner_profile, face, room, 6)
    with CaptureQueriesContext(connection) as large:
        large_export = patient_export_read(patient=full.patient)
    assert len(large_export.data["sessions"]) == len(small_export.data["sessions"]) + 6
    assert len(large_export.files) == len(small_export.files) + 6
    assert len(large_export.data["waiting_list"]) == 7
    assert sum(len(w["offers"]) for w in large_export.data["waiting_list"]) == 12
    assert len(large.captured_queries) == len(small.captured_queries) <= 25


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("front_desk", 403),
        ("therapist", 403),
        ("outsider", 403),
        ("practitioner", 200),
        ("manager", 200),
    ],
)
def test_only_practitioners_and_managers_may_export(request, full, persona, status):
    client = request.getfixturevalue(persona)
    response = client.get(reverse("dataprotection:patient_export", args=[full.patient.pk]))
    assert response.status_code == status
    exports = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    assert exports == (1 if status == 200 else 0)


def test_the_patient_page_offers_the_download_to_a_manager_not_to_the_front_desk(
    manager, front_desk, full
):
    url = reverse("patients:patient_detail", args=[full.patient.pk])
    export_url = reverse("dataprotection:patient_export", args=[full.patient.pk])
    assert export_url in manager.get(url).content.decode()
    assert export_url not in front_desk.get(url).content.decode()


def test_a_photo_missing_from_storage_is_named_in_the_zip_instead_of_failing_the_export(
    manager, full
):
    default_storage.delete(full.photo.image.name)
    archive = _download(manager, full.patient)
    data = json.loads(archive.read("data.json"))
    missing = data["photos"][0]["file"] + ".missing.txt"
    assert b"not found" in archive.read(missing)
    assert data["photos"][0]["file"] not in archive.namelist()
