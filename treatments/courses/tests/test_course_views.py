import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from tests.support.second_factor import login_verified
from treatments.courses.models import Course, Protocol
from treatments.courses.services import course_book_step, course_create
from treatments.models import Session

from .factories import ProtocolFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
T0 = dt.datetime(2030, 3, 4, 7, 0, tzinfo=dt.UTC)


def local(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def users(front_desk_user, practitioner_profile, therapist_profile, manager_user, outsider_user):
    return {
        "front_desk": front_desk_user,
        "practitioner": practitioner_profile.user,
        "therapist": therapist_profile.user,
        "manager": manager_user,
        "outsider": outsider_user,
    }


def login(user) -> Client:
    # Logged in under the frozen clock, so the session cookie is valid in 2030.
    return login_verified(Client(), user)


@pytest.fixture
def protocol(face):
    return ProtocolFactory(
        name="Skin test",
        sessions_count=4,
        interval_min_days=14,
        interval_max_days=21,
        default_session_type=face,
    )


@pytest.fixture
def course(frozen, protocol, practitioner_profile, room):
    return course_create(
        patient=PatientFactory(first_name="Cora", last_name="Course"),
        protocol=protocol,
        practitioner=practitioner_profile,
        room=room,
    )


# Who may open each page is in tests/test_access.py; here, that every role allowed an action
# can carry it out.
POST_ACTIONS = {
    "course_book_all": ({"front_desk", "practitioner", "therapist", "manager"}, "course"),
    "course_book_step": ({"front_desk", "practitioner", "therapist", "manager"}, "step"),
    "course_stop": ({"practitioner", "therapist", "manager"}, "course"),
}


def _url(name: str, arg: str, course: Course) -> str:
    args = {"course": [course.pk], "step": [course.pk, 1]}[arg]
    return reverse(f"courses:{name}", args=args)


@pytest.mark.parametrize(
    ("name", "persona"),
    [
        (name, persona)
        for name, (allowed, _) in sorted(POST_ACTIONS.items())
        for persona in sorted(allowed)
    ],
)
def test_each_allowed_role_can_post_the_action(users, course, name, persona):
    arg = POST_ACTIONS[name][1]
    data = {"reason": "Patient moved", "date": "2030-03-05", "time": "10:00"}
    response = login(users[persona]).post(_url(name, arg, course), data)
    assert response.status_code == 302


def test_the_detail_shows_progress_and_proposed_dates(users, course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    page = login(users["front_desk"]).get(reverse("courses:course_detail", args=[course.pk]))
    html = page.content.decode()
    assert "0 of 4 sessions done" in html
    assert "Tue 19 Mar 2030, 10:00" in html  # step 2, proposed
    assert "Book all proposed" in html
    assert html.count(">Book</button>") == 3


def test_front_desk_books_a_proposed_step_in_one_click(users, course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    client = login(users["front_desk"])
    response = client.post(
        reverse("courses:course_book_step", args=[course.pk, 2]),
        {"starts_at": local(2030, 3, 19, 10).isoformat()},
    )
    assert response.status_code == 302
    session = course.steps.get(number=2).session
    assert session.starts_at == local(2030, 3, 19, 10)
    assert session.booked_by == users["front_desk"]


def test_book_all_books_the_remaining_steps(users, course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    client = login(users["front_desk"])
    response = client.post(reverse("courses:course_book_all", args=[course.pk]), follow=True)
    assert "Booked sessions 2, 3, 4." in response.content.decode()
    assert Session.objects.filter(course_steps__course=course).count() == 4


def test_booking_before_the_window_shows_the_refusal_and_books_nothing(users, course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    response = login(users["front_desk"]).post(
        reverse("courses:course_book_step", args=[course.pk, 2]),
        {"date": "2030-03-10", "time": "10:00"},
    )
    assert response.status_code == 400
    assert "Too early: session 2 can be booked from Tue 19 Mar 2030" in response.content.decode()
    assert Session.objects.count() == 1


def test_booking_after_the_window_shows_a_warning(users, course):
    course_book_step(course=course, step_number=1, starts_at=local(2030, 3, 5, 10))
    response = login(users["front_desk"]).post(
        reverse("courses:course_book_step", args=[course.pk, 2]),
        {"date": "2030-03-29", "time": "10:00"},
        follow=True,
    )
    html = response.content.decode()
    assert "Session 2 booked." in html
    assert "3 days after its window closed" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2030-03-31", "time": "01:30"}, "the clocks go forward"),
        ({"date": "2030-02-30", "time": "10:00"}, "Enter a valid date"),
        ({"date": "", "time": ""}, "Give the date and time to book"),
        ({"date": "2030-03-05", "time": "25:00"}, "Enter a valid time"),
        ({"starts_at": "not a date\x00"}, "Enter a valid date/time"),
    ],
)
def test_bad_booking_input_is_answered_not_a_500(users, course, data, message):
    response = login(users["front_desk"]).post(
        reverse("courses:course_book_step", args=[course.pk, 1]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Session.objects.exists()


def test_a_practitioner_creates_a_course_from_the_patient(
    users, protocol, practitioner_profile, frozen
):
    patient = PatientFactory()
    response = login(users["practitioner"]).post(
        reverse("courses:course_create", args=[patient.pk]),
        {"protocol": protocol.pk, "practitioner": practitioner_profile.pk, "sessions_count": "5"},
    )
    course = Course.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("courses:course_detail", args=[course.pk])
    assert (course.patient, course.sessions_count, course.session_type) == (
        patient,
        5,
        protocol.default_session_type,
    )
    assert course.steps.count() == 5


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sessions_count", "11", "less than or equal to 10"),
        ("sessions_count", "0", "greater than or equal to 1"),
        ("plan_reference", "x" * 10_000, "at most 200 characters"),
        ("protocol", "999999", "Select a valid choice"),
    ],
)
def test_bad_course_input_is_answered_beside_the_field(
    users, protocol, practitioner_profile, frozen, field, value, message
):
    patient = PatientFactory()
    data = {"protocol": protocol.pk, "practitioner": practitioner_profile.pk, field: value}
    response = login(users["practitioner"]).post(
        reverse("courses:course_create", args=[patient.pk]), data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Course.objects.exists()


def test_a_therapist_cannot_be_given_a_medical_only_course(
    users, protocol, therapist_profile, frozen
):
    patient = PatientFactory()
    response = login(users["manager"]).post(
        reverse("courses:course_create", args=[patient.pk]),
        {"protocol": protocol.pk, "practitioner": therapist_profile.pk},
    )
    assert response.status_code == 200
    assert "needs a medical practitioner" in response.content.decode()
    assert not Course.objects.exists()


def test_the_manager_edits_a_protocol_within_the_allowed_range(users, protocol, frozen):
    client = login(users["manager"])
    url = reverse("courses:protocol_edit", args=[protocol.pk])
    base = {
        "name": protocol.name,
        "indication": "skin",
        "interval_min_days": "10",
        "interval_max_days": "21",
        "maintenance_interval_days": "90",
        "active": "on",
    }
    assert client.post(url, {**base, "sessions_count": "6"}).status_code == 302
    protocol.refresh_from_db()
    assert protocol.sessions_count == 6
    response = client.post(url, {**base, "sessions_count": "11"})
    assert response.status_code == 200 and "less than or equal to 10" in response.content.decode()
    response = client.post(url, {**base, "sessions_count": "4", "interval_min_days": "30"})
    assert "must end on or after" in response.content.decode()
    protocol.refresh_from_db()
    assert (protocol.sessions_count, protocol.interval_min_days) == (6, 10)


def test_the_data_migration_seeds_the_usual_protocols(face, scalp_superficial):
    # Run the migration's function itself: a transactional test elsewhere may have flushed the
    # rows the migration wrote into the reused test database.
    from django.apps import apps

    seed = importlib.import_module("treatments.courses.migrations.0002_seed_protocols").seed
    Protocol.objects.all().delete()
    seed(apps, None)
    seed(apps, None)  # running again changes nothing
    assert set(
        Protocol.objects.values_list(
            "name", "sessions_count", "interval_min_days", "interval_max_days"
        )
    ) == {
        ("Skin rejuvenation", 4, 14, 21),
        ("Hair loss (scalp)", 6, 7, 14),
        ("Localised fat/cellulite (body)", 6, 7, 10),
    }
    assert Protocol.objects.get(name="Skin rejuvenation").default_session_type == face


def test_front_desk_does_not_see_the_plan_note_or_the_stop_form(
    users, protocol, practitioner_profile, frozen
):
    course = course_create(
        patient=PatientFactory(),
        protocol=protocol,
        practitioner=practitioner_profile,
        plan_reference="Deep nappage, cheeks — confidential",
    )
    url = reverse("courses:course_detail", args=[course.pk])
    assert "confidential" not in login(users["front_desk"]).get(url).content.decode()
    html = login(users["practitioner"]).get(url).content.decode()
    assert "confidential" in html and "Stop course" in html


@pytest.mark.parametrize("count", [1, 50])
def test_the_course_list_runs_a_constant_number_of_queries(
    users, protocol, practitioner_profile, room, frozen, django_assert_max_num_queries, count
):
    for index in range(count):
        course = course_create(
            patient=PatientFactory(), protocol=protocol, practitioner=practitioner_profile
        )
        if index < 10:
            course_book_step(
                course=course,
                step_number=1,
                starts_at=local(2030, 3, 5, 8) + dt.timedelta(hours=index),
            )
    client = login(users["front_desk"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("courses:course_list"))
    assert response.content.decode().count("of 4</span>") == count


def test_the_patient_courses_partial_is_served_to_htmx(users, course):
    client = login(users["front_desk"])
    url = reverse("courses:patient_courses", args=[course.patient_id])
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Face course" in partial and "<html" not in partial
    assert "Skin test" not in partial  # the protocol's name is for clinical staff
    assert "Start a course" not in partial  # front desk cannot create one


@pytest.mark.parametrize("persona", ["front_desk", "practitioner", "manager"])
def test_each_look_at_a_patients_course_pages_writes_one_view_entry(users, course, persona):
    client = login(users[persona])
    detail = reverse("courses:course_detail", args=[course.pk])
    patient_page = reverse("courses:patient_courses", args=[course.patient_id])
    client.get(detail)
    client.get(patient_page)
    client.get(patient_page, HTTP_HX_REQUEST="true")
    entries = list(AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).order_by("id"))
    assert [(e.object_type, e.object_id) for e in entries] == [
        ("course", course.pk),
        ("patient_courses", course.patient_id),
        ("patient_courses", course.patient_id),
    ]
    assert {(e.actor, e.patient_id, e.action) for e in entries} == {
        (users[persona], course.patient_id, AuditEntry.Action.VIEW)
    }


def test_a_refused_look_writes_no_entry(users, course):
    login(users["outsider"]).get(reverse("courses:course_detail", args=[course.pk]))
    assert not AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).exists()
