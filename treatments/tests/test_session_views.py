"""Booking, moving, cancelling and checking in through the front-desk pages.

Now is frozen at Friday 20 March 2026, 09:00 GMT; the clinic (Europe/London) is open 08-20 and
the practitioners work 08-20 every day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from patients.tests.factories import PatientFactory
from treatments.models import Session, WorkingException
from treatments.tests.factories import SessionFactory, StaffProfileFactory

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)
CREATE = reverse("treatments:session_create")
TAKEN = "That slot was just taken"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(y, m, d, hh, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON)


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        first_name="Jane", last_name="Austen", date_of_birth=dt.date(1975, 12, 16)
    )


@pytest.fixture
def booked(practitioner_profile, room, face, patient) -> Session:
    """Monday 23 March, 10:00-10:45 (room held until 11:00)."""
    return SessionFactory.create(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(2026, 3, 23, 10),
    )


@pytest.fixture
def today_session(practitioner_profile, room, face, patient) -> Session:
    """Today, 08:30 GMT: already started."""
    return SessionFactory.create(
        patient=patient,
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(2026, 3, 20, 8, 30),
    )


@pytest.fixture
def data(patient, face, practitioner_profile, room) -> dict[str, str]:
    return {
        "patient": str(patient.pk),
        "patient_search": "Jane Austen",
        "session_type": str(face.pk),
        "practitioner": str(practitioner_profile.pk),
        "room": str(room.pk),
        "date": "2026-03-23",
        "time": "10:00",
        "notes": "",
    }


def errors(response, field: str) -> list[str]:
    form = response.context["form"]
    return form.non_field_errors() if field == "__all__" else form.errors.get(field, [])


# --- checking in: who may open each page is in tests/test_access.py ----------------------

STATUS = "treatments:session_status"


@pytest.mark.parametrize("persona", ["front_desk", "practitioner", "therapist", "manager"])
def test_every_booking_role_may_check_a_patient_in(request, persona, today_session):
    client = request.getfixturevalue(persona)
    response = client.post(reverse(STATUS, args=[today_session.pk]), {"action": "arrived"})
    assert response.status_code == 302
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.ARRIVED


@pytest.mark.parametrize(("persona", "status"), [("outsider", 403), ("anonymous", 302)])
def test_a_refused_check_in_changes_nothing(request, persona, status, today_session):
    client = Client() if persona == "anonymous" else request.getfixturevalue(persona)
    response = client.post(reverse(STATUS, args=[today_session.pk]), {"action": "arrived"})
    assert response.status_code == status
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.BOOKED


# --- booking ----------------------------------------------------------------------------


def test_it_books_a_session_and_returns_to_that_day_in_the_calendar(
    front_desk, front_desk_user, data, patient, practitioner_profile
):
    response = front_desk.post(CREATE, data)
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('treatments:calendar')}?view=week&date=2026-03-23"
        f"&practitioner={practitioner_profile.pk}#session-{session.pk}"
    )
    assert session.patient == patient
    assert session.starts_at == local(2026, 3, 23, 10)
    assert session.booked_by == front_desk_user
    page = front_desk.get(response["Location"]).content.decode()
    assert "Booked Face for Jane Austen on Mon 23 Mar 2026 at 10:00" in page
    assert f'id="session-{session.pk}"' in page


def test_a_taken_slot_is_said_on_the_form_and_nothing_is_saved(front_desk, data, booked):
    response = front_desk.post(CREATE, {**data, "time": "10:30"})
    assert response.status_code == 200
    assert TAKEN in errors(response, "time")[0]
    assert TAKEN in response.content.decode()
    assert Session.objects.count() == 1
    # What the desk typed is still there.
    html = response.content.decode()
    assert 'value="10:30"' in html
    assert 'value="Jane Austen"' in html


def test_a_room_in_use_by_someone_else_is_a_taken_slot(
    front_desk, data, booked, therapist_profile, scalp_superficial
):
    other = PatientFactory()
    response = front_desk.post(
        CREATE,
        {
            **data,
            "patient": other.pk,
            "practitioner": therapist_profile.pk,
            "session_type": scalp_superficial.pk,
        },
    )
    assert TAKEN in errors(response, "time")[0]
    assert "Room 1" in errors(response, "time")[0]
    assert Session.objects.count() == 1


def test_the_same_patient_with_another_practitioner_and_room_is_a_taken_slot(
    front_desk, data, booked, room2, scalp_superficial
):
    colleague = StaffProfileFactory(user__first_name="Bea", user__last_name="Nurse")
    response = front_desk.post(
        CREATE,
        {
            **data,
            "practitioner": colleague.pk,
            "room": room2.pk,
            "session_type": scalp_superficial.pk,
            "time": "10:30",
        },
    )
    message = errors(response, "time")[0]
    assert TAKEN in message
    # Names the other booking: its time and practitioner.
    assert "Jane Austen is already booked from 10:00 to 10:45 with Ada Doctor" in message
    assert Session.objects.count() == 1


def test_the_patient_buffer_does_not_count_so_back_to_back_sessions_are_fine(
    front_desk, data, booked, room2, scalp_superficial
):
    # The face session ends 10:45; its buffer (room clean-up) runs to 11:00.
    colleague = StaffProfileFactory()
    response = front_desk.post(
        CREATE,
        {
            **data,
            "practitioner": colleague.pk,
            "room": room2.pk,
            "session_type": scalp_superficial.pk,
            "time": "10:45",
        },
    )
    assert response.status_code == 302
    assert Session.objects.filter(patient=booked.patient).count() == 2


def test_a_therapist_cannot_be_booked_for_medical_only_work(front_desk, data, therapist_profile):
    response = front_desk.post(CREATE, {**data, "practitioner": therapist_profile.pk})
    assert response.status_code == 200
    assert "needs a medical practitioner" in errors(response, "practitioner")[0]
    assert not Session.objects.exists()


def test_a_therapist_can_be_booked_for_superficial_work(
    front_desk, data, therapist_profile, scalp_superficial
):
    response = front_desk.post(
        CREATE,
        {**data, "practitioner": therapist_profile.pk, "session_type": scalp_superficial.pk},
    )
    assert response.status_code == 302
    assert Session.objects.get().practitioner == therapist_profile


def test_it_refuses_a_time_outside_working_hours(front_desk, data):
    response = front_desk.post(CREATE, {**data, "time": "19:30"})
    assert "not working from 20:00" in errors(response, "time")[0]
    assert not Session.objects.exists()


def test_it_refuses_a_time_in_the_past(front_desk, data):
    response = front_desk.post(CREATE, {**data, "date": "2026-03-20", "time": "08:45"})
    assert "in the past" in errors(response, "time")[0]
    assert not Session.objects.exists()


def test_it_refuses_a_time_the_clocks_skip(front_desk, data, practitioner_profile):
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=dt.date(2026, 3, 29),
        kind="extra",
        starts=dt.time(0),
        ends=dt.time(4),
    )
    response = front_desk.post(CREATE, {**data, "date": "2026-03-29", "time": "01:30"})
    assert response.status_code == 200
    assert "01:30 does not exist on 29 Mar 2026" in errors(response, "time")[0]
    assert not Session.objects.exists()


def test_a_time_that_happens_twice_books_its_first_occurrence(
    front_desk, data, practitioner_profile
):
    WorkingException.objects.create(
        staff=practitioner_profile,
        date=dt.date(2026, 10, 25),
        kind="extra",
        starts=dt.time(0),
        ends=dt.time(4),
    )
    response = front_desk.post(CREATE, {**data, "date": "2026-10-25", "time": "01:30"})
    assert response.status_code == 302
    # 01:30 BST (first occurrence) is 00:30 UTC; the second would be 01:30 UTC.
    assert Session.objects.get().starts_at == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def test_the_form_explains_the_rule_for_times_that_happen_twice(front_desk, clinic):
    from treatments.clinic_time import AMBIGUOUS_RULE

    assert AMBIGUOUS_RULE in front_desk.get(CREATE).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"patient": ""}, "patient", "Find the patient"),
        ({"patient": "999999"}, "patient", "not found"),
        ({"patient": "abc"}, "patient", "not found"),
        ({"patient": "1\x00"}, "patient", "Null characters"),
        ({"session_type": ""}, "session_type", "required"),
        ({"session_type": "999999"}, "session_type", "Choose a session type"),
        ({"practitioner": "999999"}, "practitioner", "Choose a practitioner"),
        ({"practitioner": "<b>1</b>"}, "practitioner", "Choose a practitioner"),
        ({"room": "999999"}, "room", "Choose a room"),
        ({"room": ""}, "room", "required"),
        ({"date": ""}, "date", "required"),
        ({"date": "2026-02-30"}, "date", "valid date"),
        ({"date": "30/30/2026"}, "date", "valid date"),
        ({"date": "9999-01-01"}, "date", "between 2000 and 2099"),
        ({"date": "2026-03-23\x00"}, "date", "valid date"),
        ({"time": ""}, "time", "required"),
        ({"time": "25:61"}, "time", "valid time"),
        ({"time": "10:07"}, "time", "quarter hour"),
        ({"time": "10:00:30"}, "time", "quarter hour"),
        ({"time": "<script>alert(1)</script>"}, "time", "valid time"),
        ({"notes": "x" * 10_000}, "notes", "at most 500"),
        ({"notes": "late\x00"}, "notes", "Null characters"),
        ({"patient_search": "\x00"}, "patient_search", "Null characters"),
        ({"patient_search": "a" * 10_000}, "patient_search", "at most 100"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
    front_desk, data, changes, field, message
):
    response = front_desk.post(CREATE, {**data, **changes})
    assert response.status_code == 200
    assert any(message in error for error in errors(response, field)), errors(response, field)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Session.objects.exists()


def test_an_empty_post_names_every_missing_field(front_desk, clinic):
    response = front_desk.post(CREATE, {})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"patient", "session_type", "practitioner", "room", "date", "time"}
    assert "Nothing was booked" in response.content.decode()


def test_markup_in_a_note_is_kept_as_text_and_shown_escaped(front_desk, data):
    note = "<script>alert('x')</script> & 😀"
    assert front_desk.post(CREATE, {**data, "notes": note}).status_code == 302
    session = Session.objects.get()
    assert session.notes == note
    html = front_desk.get(reverse("treatments:session_detail", args=[session.pk])).content
    assert b"<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; 😀".encode() in html


def test_a_calendar_slot_prefills_the_form(front_desk, patient, practitioner_profile, room):
    response = front_desk.get(
        CREATE,
        {
            "practitioner": practitioner_profile.pk,
            "room": room.pk,
            "date": "2026-03-23",
            "time": "14:15",
            "patient": patient.pk,
        },
    )
    html = response.content.decode()
    assert 'value="2026-03-23"' in html
    assert 'value="14:15"' in html
    assert f'<option value="{practitioner_profile.pk}" selected>' in html
    assert f'<option value="{room.pk}" selected>' in html
    assert f'name="patient" value="{patient.pk}"' in html
    assert "Jane Austen (born 16/12/1975)" in html
    assert reverse("patients:patient_picker") in html


def test_a_garbled_prefill_is_shown_harmlessly(front_desk, clinic):
    response = front_desk.get(
        CREATE, {"patient": "9" * 50, "date": "<script>x</script>", "practitioner": "abc"}
    )
    assert response.status_code == 200
    assert b"<script>x</script>" not in response.content


# --- the session page, moving, cancelling -----------------------------------------------


def test_the_session_page_shows_what_the_desk_needs(front_desk, booked):
    html = front_desk.get(reverse("treatments:session_detail", args=[booked.pk])).content.decode()
    assert "Jane Austen" in html
    assert "Monday 23 March 2026, 10:00–10:45" in html
    assert reverse("treatments:session_reschedule", args=[booked.pk]) in html
    assert reverse("treatments:session_cancel", args=[booked.pk]) in html


def test_an_unknown_session_is_not_found(front_desk, clinic):
    for name in ("session_detail", "session_reschedule", "session_cancel"):
        assert front_desk.get(reverse(f"treatments:{name}", args=[987654])).status_code == 404
    status = reverse("treatments:session_status", args=[987654])
    assert front_desk.post(status, {"action": "arrived"}).status_code == 404


def test_it_moves_a_session(front_desk, booked, room2):
    url = reverse("treatments:session_reschedule", args=[booked.pk])
    form = front_desk.get(url).context["form"]
    assert (form.initial["date"], form.initial["time"]) == (dt.date(2026, 3, 23), dt.time(10))
    response = front_desk.post(
        url,
        {
            "date": "2026-03-24",
            "time": "11:15",
            "practitioner": booked.practitioner_id,
            "room": room2.pk,
        },
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == local(2026, 3, 24, 11, 15)
    assert booked.room == room2
    assert "date=2026-03-24" in response["Location"]


def test_moving_onto_a_taken_slot_is_said_on_the_form(
    front_desk, booked, practitioner_profile, room, face
):
    other = SessionFactory(
        practitioner=practitioner_profile,
        room=room,
        session_type=face,
        starts_at=local(2026, 3, 23, 14),
    )
    url = reverse("treatments:session_reschedule", args=[booked.pk])
    response = front_desk.post(
        url,
        {
            "date": "2026-03-23",
            "time": "14:30",
            "practitioner": practitioner_profile.pk,
            "room": room.pk,
        },
    )
    assert response.status_code == 200
    assert TAKEN in errors(response, "time")[0]
    booked.refresh_from_db()
    other.refresh_from_db()
    assert booked.starts_at == local(2026, 3, 23, 10)
    assert 'value="14:30"' in response.content.decode()


def test_moving_to_a_time_the_clocks_skip_is_refused(front_desk, booked):
    url = reverse("treatments:session_reschedule", args=[booked.pk])
    response = front_desk.post(
        url,
        {
            "date": "2026-03-29",
            "time": "01:00",
            "practitioner": booked.practitioner_id,
            "room": booked.room_id,
        },
    )
    assert "does not exist" in errors(response, "time")[0]
    booked.refresh_from_db()
    assert booked.starts_at == local(2026, 3, 23, 10)


def test_a_cancelled_session_cannot_be_moved(front_desk, booked):
    Session.objects.filter(pk=booked.pk).update(status=Session.Status.CANCELLED)
    url = reverse("treatments:session_reschedule", args=[booked.pk])
    response = front_desk.post(
        url,
        {
            "date": "2026-03-24",
            "time": "10:00",
            "practitioner": booked.practitioner_id,
            "room": booked.room_id,
        },
    )
    assert response.status_code == 200
    assert "Only a booked session can be moved" in errors(response, "__all__")[0]


def test_it_cancels_a_session_with_a_reason_and_frees_the_slot(front_desk, booked, data):
    url = reverse("treatments:session_cancel", args=[booked.pk])
    response = front_desk.post(url, {"reason": "Patient called: unwell"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Session.Status.CANCELLED
    assert booked.cancel_reason == "Patient called: unwell"
    assert "date=2026-03-23" in response["Location"]
    # The slot can be booked again.
    assert front_desk.post(CREATE, data).status_code == 302


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why"),
        ("   ", "Say why"),
        ("x" * 10_000, "at most 500"),
        ("unwell\x00", "Null characters"),
    ],
)
def test_cancelling_needs_a_sensible_reason(front_desk, booked, reason, message):
    url = reverse("treatments:session_cancel", args=[booked.pk])
    response = front_desk.post(url, {"reason": reason})
    assert response.status_code == 200
    assert message in response.context["form"].errors["reason"][0]
    booked.refresh_from_db()
    assert booked.status == Session.Status.BOOKED


def test_a_cancelled_session_cannot_be_cancelled_again(front_desk, booked):
    Session.objects.filter(pk=booked.pk).update(status=Session.Status.CANCELLED)
    url = reverse("treatments:session_cancel", args=[booked.pk])
    response = front_desk.post(url, {"reason": "twice"})
    assert response.status_code == 200
    assert "Cannot cancel" in response.content.decode()


def test_markup_in_a_cancel_reason_is_shown_escaped(front_desk, booked):
    url = reverse("treatments:session_cancel", args=[booked.pk])
    front_desk.post(url, {"reason": "<img src=x onerror=alert(1)>"})
    html = front_desk.get(reverse("treatments:session_detail", args=[booked.pk])).content
    assert b"<img src=x" not in html
    assert b"&lt;img src=x onerror=alert(1)&gt;" in html


# --- status changes ---------------------------------------------------------------------


def _status(client: Client, session: Session, action: str, **extra: str):
    url = reverse("treatments:session_status", args=[session.pk])
    return client.post(url, {"action": action, **extra})


def test_it_checks_a_patient_in_on_the_day(front_desk, today_session):
    response = _status(front_desk, today_session, "arrived")
    assert response.status_code == 302
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.ARRIVED
    assert "Jane Austen is checked in." in front_desk.get(response["Location"]).content.decode()


def test_it_refuses_to_check_in_on_another_day_with_a_message(front_desk, booked):
    response = _status(front_desk, booked, "arrived")
    assert response.status_code == 200
    assert "only be checked in on the day" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Session.Status.BOOKED


def test_it_marks_a_started_session_completed_once_the_desk_confirms(front_desk, today_session):
    asked = _status(front_desk, today_session, "completed")
    assert asked.status_code == 200
    assert "has no signed clinical record yet" in asked.content.decode()
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.BOOKED
    assert _status(front_desk, today_session, "completed", confirm="on").status_code == 302
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.COMPLETED


def test_it_marks_a_no_show_once_the_start_has_passed(front_desk, today_session, booked):
    assert _status(front_desk, today_session, "no_show", confirm="on").status_code == 302
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.NO_SHOW
    response = _status(front_desk, booked, "no_show", confirm="on")
    assert "once its start time has passed" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Session.Status.BOOKED


@pytest.mark.parametrize("action", ["", "delete", "cancelled", "<b>x</b>", "arrived\x00"])
def test_an_unknown_status_change_is_refused(front_desk, today_session, action):
    response = _status(front_desk, today_session, action)
    assert response.status_code == 200
    assert b"<b>x</b>" not in response.content
    today_session.refresh_from_db()
    assert today_session.status == Session.Status.BOOKED


def test_status_changes_need_a_post(front_desk, today_session):
    url = reverse("treatments:session_status", args=[today_session.pk])
    assert front_desk.get(url, {"action": "arrived"}).status_code == 405


def test_the_form_remembers_when_it_was_shown_and_says_just_taken_only_after(
    front_desk, data, booked
):
    # Another patient: the booked one would meet the one-patient-one-session rule first.
    data = {**data, "patient": str(PatientFactory().pk)}
    form = front_desk.get(CREATE).context["form"]
    assert form.initial["shown_at"] == NOW
    assert 'name="shown_at"' in front_desk.get(CREATE).content.decode()
    before = (NOW - dt.timedelta(minutes=3)).isoformat()
    response = front_desk.post(CREATE, {**data, "time": "10:30", "shown_at": before})
    assert TAKEN in errors(response, "time")[0]
    after = (NOW + dt.timedelta(minutes=3)).isoformat()
    response = front_desk.post(CREATE, {**data, "time": "10:30", "shown_at": after})
    assert TAKEN not in errors(response, "time")[0]
    assert "Ada Doctor is booked 10:00–11:00" in errors(response, "time")[0]
    assert Session.objects.count() == 1
