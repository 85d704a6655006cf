import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from mesoclinic.audit.admin import AuditEntryAdmin
from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_it_records_who_which_patient_what_and_when(practitioner_profile):
    patient = PatientFactory()
    entry = audit_log(actor=practitioner_profile.user, patient=patient, action="view", obj=patient)
    entry.refresh_from_db()
    assert entry.actor == practitioner_profile.user
    assert entry.patient == patient
    assert entry.action == "view"
    assert entry.object_type == "patient"
    assert entry.object_id == patient.pk
    assert entry.at is not None


def test_it_keeps_no_free_text_fields():
    text_fields = [
        f.name
        for f in AuditEntry._meta.get_fields()
        if getattr(f, "max_length", None) and f.max_length > 40
    ]
    assert text_fields == []


def test_it_refuses_to_change_an_entry(practitioner_profile):
    entry = audit_log(actor=practitioner_profile.user, patient=None, action="view", obj=None)
    entry.action = "sign"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(action="sign")
    with pytest.raises(PermissionDenied):
        entry.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "view"


@pytest.mark.postgres
def test_postgres_refuses_raw_updates_and_deletes(practitioner_profile):
    entry = audit_log(actor=practitioner_profile.user, patient=None, action="view", obj=None)
    for sql in (
        "UPDATE clinical_auditentry SET action = 'sign' WHERE id = %s",
        "DELETE FROM clinical_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "view"


def test_the_admin_cannot_add_change_or_delete_entries(rf, manager_user):
    from django.contrib.admin.sites import site

    admin = AuditEntryAdmin(AuditEntry, site)
    request = rf.get("/")
    request.user = manager_user
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)
