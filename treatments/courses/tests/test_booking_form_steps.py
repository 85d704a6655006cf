"""The ordinary booking form knows about the patient's course: it offers to count the booking as
the course's next step, and a ticked booking links the step in the same transaction.

Now is frozen at Monday 4 March 2030, 07:00 GMT. The course (4 sessions, every 14-21 days) has
session 1 booked on Tue 5 March 10:00, so session 2's window is Tue 19 to Tue 26 March.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mesoclinic.errors import DomainError
from patients.tests.factories import PatientFactory
from treatments.courses.models import Course
from treatments.courses.planner import course_propose
from treatments.courses.selectors import courses_follow_up_due
from treatments.courses.services import course_book_step, course_create
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.models import Session
from treatments.services.booking import session_complete

from .factories import ProtocolFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
T0 = dt.datetime(2030, 3, 4, 7, 0, tzinfo=dt.UTC)
CREATE = reverse("treatments:session_create")
CHOICE = reverse("courses:booking_step_choice")


def local(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def protocol(face):
    return ProtocolFactory(
        name="Skin glow",
        sessions_count=4,
        interval_min_days=14,
        interval_max_days=21,
        default_session_type=face,
    )


@pytest.fixture
def patient(clinic):
    return PatientFactory(
        first_name="Cora",
        last_name="Course",
        email_reminders_consent=True,
        marketing_consent=True,
    )


@pytest.fixture
def course(protocol, practitioner_profile, room, patient) -> Course:
    course = course_create(
        patient=patient, protocol=protocol, practitioner=practitioner_profile, room=room
    )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    return course


def form_data(course, face, room, day: dt.date, *, step: str | None = None, hour=10) -> dict:
    data = {
        "patient": course.patient.pk,
        "patient_search": "Cora Course",
        "session_type": face.pk,
        "practitioner": course.practitioner.pk,
        "room": room.pk,
        "date": day.isoformat(),
        "time": f"{hour:02d}:00",
        "notes": "",
    }
    if step is not None:
        data["course_step"] = step
    return data


def step_value(course, number=2) -> str:
    return f"{course.pk}:{number}"


def checked(html: str, value: str) -> bool:
    return f'value="{value}" checked' in html


# --- the choice on the form -----------------------------------------------------------------


def test_the_form_offers_the_next_step_preselected_for_the_course_session_type(
    front_desk, course, face
):
    url = f"{CREATE}?patient={course.patient.pk}&session_type={face.pk}&date=2030-03-20"
    html = front_desk.get(url).content.decode()
    assert "step 2 of 4</strong> of the patient's Face course" in html
    assert "Skin glow" not in html  # the protocol's name would tell the desk the condition
    assert "Window: Tue 19 Mar 2030 to Tue 26 Mar 2030 (clinic time)" in html
    assert 'data-step-timing="inside"' in html
    assert checked(html, step_value(course))
    assert not checked(html, "")


def test_the_form_offers_the_step_unticked_for_another_session_type(
    front_desk, course, scalp_superficial
):
    url = f"{CREATE}?patient={course.patient.pk}&session_type={scalp_superficial.pk}"
    html = front_desk.get(url).content.decode()
    assert "step 2 of 4" in html
    assert not checked(html, step_value(course))
    assert checked(html, "")


def test_the_form_says_when_the_chosen_date_is_before_or_after_the_window(front_desk, course, face):
    query = {"patient": course.patient.pk, "session_type": face.pk}
    before = front_desk.get(CHOICE, {**query, "date": "2030-03-18"}).content.decode()
    after = front_desk.get(CHOICE, {**query, "date": "2030-03-27"}).content.decode()
    assert 'data-step-timing="before"' in before and "will be refused" in before
    assert 'data-step-timing="after"' in after and "with a warning" in after


def test_the_picker_partial_preselects_by_type_and_then_keeps_what_the_desk_ticked(
    front_desk, course, face, scalp_superficial
):
    patient = course.patient.pk
    picked = front_desk.get(CHOICE, {"patient": patient, "session_type": face.pk})
    assert checked(picked.content.decode(), step_value(course))
    # The desk unticked it, then changed the date: still unticked.
    kept = front_desk.get(
        CHOICE,
        {
            "patient": patient,
            "session_type": face.pk,
            "date": "2030-03-20",
            "course_step": "",
            "course_step_for_type": face.pk,
        },
    )
    assert checked(kept.content.decode(), "")
    # The desk changed the session type: the preselection follows the type.
    retyped = front_desk.get(
        CHOICE,
        {
            "patient": patient,
            "session_type": scalp_superficial.pk,
            "course_step": step_value(course),
            "course_step_for_type": face.pk,
        },
    )
    assert checked(retyped.content.decode(), "")


def test_the_form_offers_nothing_for_a_patient_without_an_active_course(front_desk, course, face):
    other = PatientFactory()
    html = front_desk.get(f"{CREATE}?patient={other.pk}&session_type={face.pk}").content.decode()
    assert 'name="course_step"' not in html
    course.status = Course.Status.STOPPED
    course.save()
    html = front_desk.get(CHOICE, {"patient": course.patient.pk}).content.decode()
    assert 'name="course_step"' not in html


def test_the_partial_ignores_malformed_input(front_desk, course):
    response = front_desk.get(
        CHOICE, {"patient": "x\x00", "session_type": "9" * 40, "date": "2030-02-31"}
    )
    assert response.status_code == 200
    assert 'name="course_step"' not in response.content.decode()


# --- booking with the choice ticked ---------------------------------------------------------


def test_ticking_the_step_links_it_advances_the_course_and_cancels_its_nudges_at_once(
    front_desk, course, face, room, frozen
):
    first = course.steps.get(number=1).session
    frozen.move_to(local(2030, 3, 5, 10, 50))
    session_complete(session=first)
    nudges = OutboxMessage.objects.filter(course=course, step=2)
    assert set(nudges.values_list("status", flat=True)) == {Status.PENDING}
    assert [due.step_number for due in courses_follow_up_due(today=dt.date(2030, 3, 19))] == [2]

    response = front_desk.post(
        CREATE, form_data(course, face, room, dt.date(2030, 3, 20), step=step_value(course))
    )

    assert response.status_code == 302
    session = Session.objects.get(patient=course.patient, starts_at=local(2030, 3, 20, 10))
    assert course.steps.get(number=2).session == session
    assert [plan.booked for plan in course_propose(course=course)] == [True, True, False, False]
    assert courses_follow_up_due(today=dt.date(2030, 3, 19)) == []
    assert sorted(nudges.values_list("kind", "status", "reason_code")) == [
        (Kind.FOLLOW_UP, Status.CANCELLED, Reason.NOT_APPLICABLE),
        (Kind.FOLLOW_UP_AGAIN, Status.CANCELLED, Reason.NOT_APPLICABLE),
    ]
    page = front_desk.get(response.url).content.decode()
    assert "Counted as Face course, session 2 of 4." in page
    assert "Skin glow" not in page


def test_ticking_the_step_before_its_window_is_refused_beside_the_date_and_saves_nothing(
    front_desk, course, face, room
):
    response = front_desk.post(
        CREATE, form_data(course, face, room, dt.date(2030, 3, 18), step=step_value(course))
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "Too early: session 2 can be booked from Tue 19 Mar 2030" in form.errors["date"][0]
    assert "Nothing was booked." in response.content.decode()
    assert Session.objects.filter(patient=course.patient).count() == 1
    assert course.steps.get(number=2).session is None
    assert checked(response.content.decode(), step_value(course))  # what the desk ticked


def test_ticking_the_step_after_its_window_books_it_with_a_warning(front_desk, course, face, room):
    response = front_desk.post(
        CREATE,
        form_data(course, face, room, dt.date(2030, 3, 28), step=step_value(course)),
        follow=True,
    )
    assert course.steps.get(number=2).session.starts_at == local(2030, 3, 28, 10)
    warnings = [m.message for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "booked 2 days after its window closed (Tue 26 Mar 2030" in warnings[0]


def test_a_later_step_cannot_be_ticked_before_the_previous_one_is_booked(
    front_desk, course, face, room
):
    response = front_desk.post(
        CREATE, form_data(course, face, room, dt.date(2030, 4, 10), step=step_value(course, 3))
    )
    assert "Book session 2 first" in response.context["form"].errors["date"][0]
    assert Session.objects.filter(patient=course.patient).count() == 1


def test_a_step_already_booked_meanwhile_is_refused_beside_the_choice(
    front_desk, course, face, room
):
    course_book_step(course=course, step_number=2, starts_at=local(2030, 3, 21, 10))
    response = front_desk.post(
        CREATE, form_data(course, face, room, dt.date(2030, 3, 20), step=step_value(course))
    )
    assert "Session 2 is already booked" in response.context["form"].errors["course_step"][0]
    assert Session.objects.filter(patient=course.patient).count() == 2
    html = response.content.decode()
    assert "Session 2 is already booked" in html
    assert "step 3 of 4" in html and not checked(html, step_value(course, 3))


def test_another_patients_course_or_a_made_up_value_is_refused(front_desk, course, face, room):
    data = form_data(course, face, room, dt.date(2030, 3, 20), step=step_value(course))
    other = PatientFactory()
    refused = front_desk.post(CREATE, {**data, "patient": other.pk})
    assert "another patient" in refused.context["form"].errors["course_step"][0]
    for bad in ("9999:2", "2; DROP", "<b>1</b>:1", "x" * 10_000):
        response = front_desk.post(CREATE, {**data, "course_step": bad})
        assert response.status_code == 200
        assert response.context["form"].errors["course_step"]
    assert not Session.objects.filter(patient=other).exists()
    assert Session.objects.filter(patient=course.patient).count() == 1


def test_unticked_is_an_ordinary_booking_with_no_link(front_desk, course, face, room):
    response = front_desk.post(CREATE, form_data(course, face, room, dt.date(2030, 3, 20), step=""))
    assert response.status_code == 302
    session = Session.objects.get(patient=course.patient, starts_at=local(2030, 3, 20, 10))
    assert session.notes == ""
    assert course.steps.get(number=2).session is None
    assert not session.course_steps.exists()


def test_moving_a_linked_session_keeps_its_step(front_desk, course, face, room):
    front_desk.post(
        CREATE, form_data(course, face, room, dt.date(2030, 3, 20), step=step_value(course))
    )
    session = course.steps.get(number=2).session
    response = front_desk.post(
        reverse("treatments:session_reschedule", args=[session.pk]),
        {
            "date": "2030-03-22",
            "time": "11:00",
            "practitioner": session.practitioner_id,
            "room": session.room_id,
        },
    )
    assert response.status_code == 302
    step = course.steps.get(number=2)
    assert step.session_id == session.pk
    assert step.session.starts_at == local(2030, 3, 22, 11)
    assert Session.objects.filter(patient=course.patient).count() == 2


# --- two desks at once ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_ticking_the_same_step_at_once_link_it_once(
    front_desk_user, protocol, practitioner_profile, therapist_profile, room, room2, face
):
    import threading

    from django.db import connection

    patient = PatientFactory()
    course = course_create(
        patient=patient, protocol=protocol, practitioner=practitioner_profile, room=room
    )
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    desks = [Client(), Client()]
    for desk in desks:
        desk.force_login(front_desk_user)
    statuses: list[int] = []
    barrier = threading.Barrier(len(desks))

    def book(desk: Client, chosen_room, hour: int) -> None:
        try:
            barrier.wait()
            data = form_data(course, face, chosen_room, dt.date(2030, 3, 20), hour=hour)
            response = desk.post(CREATE, {**data, "course_step": step_value(course)})
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=book, args=(desks[0], room, 10)),
        threading.Thread(target=book, args=(desks[1], room2, 14)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 302]
    assert Session.objects.filter(patient=patient).count() == 2
    second = course.steps.get(number=2).session
    assert second is not None and second.course_steps.count() == 1


def test_the_service_refuses_a_closed_course(course, face, room):
    from treatments.courses.services import course_step_book_from_calendar

    course.status = Course.Status.COMPLETED
    course.save()
    with pytest.raises(DomainError, match="completed"):
        course_step_book_from_calendar(
            course=course,
            step_number=2,
            patient=course.patient,
            session_type=face,
            practitioner=course.practitioner,
            room=room,
            starts_at=local(2030, 3, 20, 10),
        )
    assert Session.objects.filter(patient=course.patient).count() == 1


def test_the_desk_reads_a_neutral_course_label_never_the_protocol_name(front_desk, course):
    session = course.steps.get(number=1).session
    assert session.notes == "Face course, session 1 of 4"
    detail = front_desk.get(reverse("treatments:session_detail", args=[session.pk]))
    calendar = front_desk.get(reverse("treatments:calendar") + "?view=day&date=2030-03-05")
    detail_html, calendar_html = detail.content.decode(), calendar.content.decode()
    assert "Face course, session 1 of 4" in detail_html
    assert "Cora Course" in calendar_html
    for html in (detail_html, calendar_html):
        assert "Skin glow" not in html


def test_the_course_pages_name_the_protocol_to_clinical_staff_only(
    front_desk, practitioner, course
):
    urls = [
        reverse("courses:course_list"),
        reverse("courses:course_detail", args=[course.pk]),
        reverse("courses:patient_courses", args=[course.patient.pk]),
    ]
    for url in urls:
        desk = front_desk.get(url).content.decode()
        assert "Face course" in desk and "Skin glow" not in desk, url
        assert "Skin glow" in practitioner.get(url).content.decode(), url
