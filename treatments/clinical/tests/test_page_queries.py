"""The clinical pages take a number of queries that does not grow with the records shown."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from treatments.clinical.services.records import record_product_add, record_save
from treatments.models import Session
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

# --- query counts ----------------------------------------------------------------------------


def _sessions_with_records(patient, practitioner_profile, lot, count):
    from treatments.clinical.tests.factories import record_data as data

    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=count + 1)
    for i in range(count):
        s = SessionFactory(
            patient=patient,
            practitioner=practitioner_profile,
            session_type=Session.objects.none()
            .model._meta.get_field("session_type")
            .related_model.objects.get(name="Face"),
            starts_at=start + dt.timedelta(days=i),
            status=Session.Status.ARRIVED,
        )
        rec = record_save(session=s, by=practitioner_profile.user, data=data())
        if i % 10 == 0:
            record_product_add(record=rec, lot=lot, volume_ml=Decimal("0.1"), by=rec.author)


@pytest.mark.parametrize("count", [1, 100])
def test_the_timeline_and_record_pages_take_constant_queries(
    count,
    face,
    ready,
    patient,
    lot,
    practitioner,
    practitioner_profile,
    room,
    django_assert_max_num_queries,
):
    _sessions_with_records(patient, practitioner_profile, lot, count)
    with django_assert_max_num_queries(25):
        response = practitioner.get(reverse("clinical:patient", kwargs={"patient_pk": patient.pk}))
    assert response.status_code == 200
    session = Session.objects.filter(patient=patient).last()
    with django_assert_max_num_queries(25):
        response = practitioner.get(reverse("clinical:record", kwargs={"session_pk": session.pk}))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 100])
def test_the_consent_page_reads_consent_only(
    count,
    face,
    ready,
    patient,
    lot,
    practitioner,
    practitioner_profile,
    room,
    django_assert_max_num_queries,
):
    # Not the whole timeline: the patient's sessions, records and photos are not on this page.
    _sessions_with_records(patient, practitioner_profile, lot, count)
    # 11 at 1 and at 100 sessions: the page's own reads, plus the sign-in's (session, user,
    # roles, second-factor device) and the clinical-authority check of the user's profile.
    with django_assert_max_num_queries(11):
        response = practitioner.get(
            reverse("clinical:consent_overview", kwargs={"patient_pk": patient.pk})
        )
    assert response.status_code == 200
    assert response.context["signatures"] == [ready[1]]
