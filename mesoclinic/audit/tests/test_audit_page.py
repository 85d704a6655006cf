"""The manager's audit page: filters, newest first, pages, CSV (itself audited), flat queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LIST = "audit:audit_list"
CSV = "audit:audit_csv"


def _entry(at: dt.datetime, **kwargs) -> AuditEntry:
    with time_machine.travel(at, tick=False):
        return audit_log(**{"patient": None, "action": "view", "object_type": "x", **kwargs})


def _rows(page: str) -> int:
    return page.count('<tr>\n    <td class="text-nowrap">')


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("persona", ["front_desk", "practitioner", "therapist", "outsider"])
def test_only_the_manager_reads_the_audit(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse(CSV)).status_code == 403


def test_the_manager_sees_entries_newest_first_with_names(
    manager, manager_user, practitioner_profile
):
    patient = PatientFactory(first_name="Pia", last_name="Patient")
    doctor = practitioner_profile.user
    _entry(dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC), actor=doctor, patient=patient)
    _entry(dt.datetime(2030, 1, 2, 9, tzinfo=dt.UTC), actor=manager_user, action="export")
    html = manager.get(reverse(LIST)).content.decode()
    table = html[html.index("<tbody>") :]
    assert table.index("Exported data") < table.index("Viewed")
    assert "Patient, Pia" in html and "Ada Doctor" in html
    assert "Wed 02 Jan 2030, 09:00:00" in html  # London, in winter: UTC+0


def test_the_manager_filters_by_staff_patient_and_action(
    manager, manager_user, practitioner_profile
):
    patient, other = PatientFactory(), PatientFactory()
    doctor = practitioner_profile.user
    at = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)
    _entry(at, actor=doctor, patient=patient)
    _entry(at, actor=doctor, patient=other)
    _entry(at, actor=manager_user, patient=patient, action="export")
    url = reverse(LIST)
    assert _rows(manager.get(url, {"actor": doctor.pk}).content.decode()) == 2
    assert _rows(manager.get(url, {"patient": patient.pk}).content.decode()) == 2
    assert _rows(manager.get(url, {"action": "export"}).content.decode()) == 1
    assert _rows(manager.get(url, {"actor": doctor.pk, "patient": other.pk}).content.decode()) == 1


def test_dates_are_whole_days_on_the_clinics_clock_across_a_clock_change(manager, manager_user):
    # London springs forward on Sun 31 Mar 2030: that local day runs 00:00 GMT to 23:00 UTC.
    _entry(dt.datetime(2030, 3, 30, 23, 30, tzinfo=dt.UTC), actor=manager_user)  # 30th, 23:30
    _entry(dt.datetime(2030, 3, 31, 22, 59, tzinfo=dt.UTC), actor=manager_user)  # 31st, 23:59
    _entry(dt.datetime(2030, 3, 31, 23, 1, tzinfo=dt.UTC), actor=manager_user)  # 1 Apr, 00:01
    day = {"date_from": "2030-03-31", "date_to": "2030-03-31"}
    html = manager.get(reverse(LIST), day).content.decode()
    assert _rows(html) == 1
    assert "Sun 31 Mar 2030, 23:59:00" in html
    assert _rows(manager.get(reverse(LIST), {"date_from": "2030-03-31"}).content.decode()) == 2
    # (the manager's own sign-in, today, is on or before the 30th too: filter to what was viewed)
    until_30th = {"date_to": "2030-03-30", "action": "view"}
    assert _rows(manager.get(reverse(LIST), until_30th).content.decode()) == 1


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2030-02-30"}, "date_from", "Enter a valid date"),
        ({"date_from": "2030-03-02", "date_to": "2030-03-01"}, "date_to", "before the start"),
        ({"date_to": "1066-10-14"}, "date_to", "from 2000 onwards"),
        ({"patient": "abc"}, "patient", "Enter a whole number"),
        ({"patient": "99999999999999999999"}, "patient", "less than or equal"),
        ({"actor": "999999"}, "actor", "Select a valid choice"),
        ({"action": "drop table"}, "action", "Select a valid choice"),
    ],
)
def test_bad_filters_get_a_message_beside_the_field(manager, manager_user, params, field, message):
    response = manager.get(reverse(LIST), params)
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert f'id="error_1_id_{field}"' in response.content.decode()
    assert not list(response.context["page"])


def test_pages_hold_fifty_and_keep_the_filters(manager, manager_user):
    for minute in range(55):
        _entry(dt.datetime(2030, 1, 1, 9, minute, tzinfo=dt.UTC), actor=manager_user)
    first = manager.get(reverse(LIST), {"action": "view"}).content.decode()
    assert _rows(first) == 50
    assert "?action=view&amp;page=2" in first
    second = manager.get(reverse(LIST), {"action": "view", "page": 2}).content.decode()
    assert _rows(second) == 5
    assert "09:04:00" in second and "09:05:00" not in second  # the oldest five


@pytest.mark.parametrize("count", [5, 120])
def test_the_page_and_its_csv_run_the_same_queries_however_many_entries(
    manager, manager_user, django_assert_num_queries, count
):
    patients = PatientFactory.create_batch(3)
    for index in range(count):
        _entry(
            dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=index),
            actor=manager_user,
            patient=patients[index % 3],
        )
    # 9: the page's own 5, plus session, user, roles and the second factor's device.
    only_views = {"actor": manager_user.pk, "action": "view"}
    with django_assert_num_queries(9):
        response = manager.get(reverse(LIST), only_views)
    assert response.status_code == 200
    with django_assert_num_queries(9):
        rows = _csv(manager.get(reverse(CSV), only_views))
    assert len(rows) == count


def test_the_csv_holds_the_filtered_entries_and_is_itself_audited_once(
    manager, manager_user, practitioner_profile
):
    patient = PatientFactory(first_name="=cmd", last_name="Patient")
    _entry(
        dt.datetime(2030, 7, 1, 9, tzinfo=dt.UTC), actor=practitioner_profile.user, patient=patient
    )
    _entry(dt.datetime(2030, 7, 1, 10, tzinfo=dt.UTC), actor=manager_user, action="sign")
    response = manager.get(reverse(CSV), {"action": "view"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    [row] = _csv(response)
    assert row["at_local"] == "2030-07-01 10:00:00"  # London summer time
    assert row["staff_username"] == "doctor"
    assert row["patient_id"] == str(patient.pk)
    assert row["patient_name"] == "Patient, =cmd"
    [export] = AuditEntry.objects.filter(action="export")
    assert (export.actor, export.note) == (manager_user, "audit CSV (1 rows)")
    assert AuditEntry.objects.exclude(action="login").count() == 3  # the two, and the export


def test_a_csv_with_bad_filters_goes_back_to_the_page_and_exports_nothing(manager, manager_user):
    response = manager.get(reverse(CSV), {"date_from": "nope"})
    assert response.status_code == 302
    assert response.url == reverse(LIST) + "?date_from=nope"
    assert not AuditEntry.objects.exclude(action="login").exists()


def test_the_managers_nav_links_to_the_audit_page(manager):
    html = manager.get(reverse("treatments:setup")).content.decode()
    assert html.count(f'href="{reverse(LIST)}"') == 2  # top bar and the set-up menu


def test_the_patient_page_links_the_manager_to_that_patients_trail(manager, front_desk):
    patient = PatientFactory()
    link = f'href="{reverse(LIST)}?patient={patient.pk}"'
    page = reverse("patients:patient_detail", args=[patient.pk])
    assert link in manager.get(page).content.decode()
    assert link not in front_desk.get(page).content.decode()
