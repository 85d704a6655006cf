"""The "do not book" hold: set by a screening with an absolute contraindication to all treatment,
refused at booking under the lock, lifted by a new screening without it or by a practitioner."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import BookingHeld
from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.clinical.errors import NotQualified
from treatments.clinical.models import Screening
from treatments.clinical.selectors import FLAG_DO_NOT_BOOK, patient_flags
from treatments.clinical.services.holds import booking_hold_lift
from treatments.models import Session
from treatments.services.booking import session_book, session_reschedule
from treatments.tests.factories import SessionFactory

from .factories import make_screening

LATER = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0, minute=0) + dt.timedelta(days=30)


def _book(patient, face, practitioner_profile, room):
    return session_book(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=LATER.replace(hour=10),
    )


def _hold_entries(patient):
    return list(
        AuditEntry.objects.filter(patient=patient, object_type="booking_hold")
        .order_by("id")
        .values_list("note", flat=True)
    )


def test_an_absolute_contraindication_holds_booking_and_the_desk_is_told_to_ask(
    patient, face, practitioner_profile, room
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    patient.refresh_from_db()
    assert patient.booking_hold and patient.booking_hold_at is not None
    assert _hold_entries(patient) == ["set by screening"]
    with pytest.raises(BookingHeld) as refusal:
        _book(patient, face, practitioner_profile, room)
    message = refusal.value.message
    assert "Jane Doe cannot be booked at the moment" in message
    assert "Ask a practitioner" in message
    # Never why: no clinical detail reaches the desk.
    assert "pregnan" not in message.lower() and "contraindication" not in message.lower()
    assert Session.objects.filter(patient=patient).count() == 0
    assert FLAG_DO_NOT_BOOK in patient_flags(patient=patient)


def test_a_held_patient_cannot_be_moved_either(patient, face, practitioner_profile, room):
    session = SessionFactory(
        patient=patient,
        session_type=face,
        practitioner=practitioner_profile,
        room=room,
        starts_at=LATER.replace(hour=10),
    )
    make_screening(patient, practitioner_profile.user, pregnancy="")
    with pytest.raises(BookingHeld, match="Ask a practitioner"):
        session_reschedule(session=session, starts_at=LATER.replace(hour=12))
    session.refresh_from_db()
    assert session.starts_at == LATER.replace(hour=10)


def test_a_relative_or_scoped_answer_does_not_hold(patient, practitioner_profile):
    make_screening(
        patient, practitioner_profile.user, anticoagulants="warfarin", **{"lidocaine-allergy": ""}
    )
    patient.refresh_from_db()
    assert not patient.booking_hold
    assert _hold_entries(patient) == []


def test_a_later_screening_without_it_lifts_the_hold(patient, face, practitioner_profile, room):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    make_screening(patient, practitioner_profile.user)
    patient.refresh_from_db()
    assert not patient.booking_hold
    assert _hold_entries(patient) == ["set by screening", "lifted by screening"]
    assert _book(patient, face, practitioner_profile, room).patient == patient


def test_a_back_dated_screening_does_not_overrule_the_latest(patient, practitioner_profile):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    make_screening(
        patient,
        practitioner_profile.user,
        taken_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
    )
    patient.refresh_from_db()
    assert patient.booking_hold


def test_a_practitioner_lifts_the_hold_and_the_desk_can_book(
    patient, face, practitioner_profile, room
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    booking_hold_lift(patient=patient, by=practitioner_profile.user)
    assert not Patient.objects.get(pk=patient.pk).booking_hold
    assert _hold_entries(patient) == ["set by screening", "lifted"]
    assert FLAG_DO_NOT_BOOK not in patient_flags(patient=patient)
    assert _book(patient, face, practitioner_profile, room).patient == patient


@pytest.mark.parametrize("who", ["therapist_profile", "manager_user"])
def test_only_medical_staff_lift_a_hold(patient, practitioner_profile, who, request):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    user = request.getfixturevalue(who)
    with pytest.raises(NotQualified):
        booking_hold_lift(patient=patient, by=getattr(user, "user", user))
    assert Patient.objects.get(pk=patient.pk).booking_hold


def test_the_clinical_page_offers_the_lift_to_a_practitioner_only(
    patient, practitioner_profile, practitioner, therapist
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    url = reverse("clinical:patient", kwargs={"patient_pk": patient.pk})
    assert "Lift the hold" in practitioner.get(url).content.decode()
    page = therapist.get(url).content.decode()
    assert "Do not book" in page and "Lift the hold" not in page
    assert "Only a doctor, nurse or prescriber can lift it." in page
    lift = reverse("clinical:booking_hold_lift", kwargs={"patient_pk": patient.pk})
    assert therapist.post(lift).status_code == 302
    assert Patient.objects.get(pk=patient.pk).booking_hold
    response = practitioner.post(lift, follow=True)
    assert "Jane Doe can be booked at the desk again." in response.content.decode()
    assert not Patient.objects.get(pk=patient.pk).booking_hold


def test_the_desk_form_shows_the_hold_beside_the_patient(
    patient, face, practitioner_profile, room, front_desk
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    local = LATER.replace(hour=10).astimezone(ZoneInfo("Europe/London"))
    response = front_desk.post(
        "/sessions/new/",
        {
            "patient": patient.pk,
            "session_type": face.pk,
            "practitioner": practitioner_profile.pk,
            "room": room.pk,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"),
            "notes": "",
        },
    )
    assert response.status_code == 200
    assert "a practitioner needs to see them first" in response.content.decode()
    assert Session.objects.count() == 0


def test_the_migration_holds_patients_whose_latest_screening_has_it(patient, practitioner_profile):
    resolved = PatientFactory()
    make_screening(patient, practitioner_profile.user, pregnancy="")
    make_screening(resolved, practitioner_profile.user, pregnancy="")
    make_screening(resolved, practitioner_profile.user)
    Patient.objects.update(booking_hold=False, booking_hold_at=None)
    migration = importlib.import_module(
        "treatments.clinical.migrations.0011_booking_hold_from_latest_screening"
    )
    migration.set_holds(django_apps, None)
    assert set(Patient.objects.filter(booking_hold=True)) == {patient}
    assert Screening.objects.count() == 3
