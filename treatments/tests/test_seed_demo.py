"""`manage.py seed_demo`: the clinic `make run` shows. Idempotent, never double-booked."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from io import StringIO
from itertools import pairwise

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mesoclinic.access import Role
from patients.models import ConsentChange, Patient
from treatments.courses.models import Course
from treatments.messaging.dispatch import dispatch_in_process
from treatments.messaging.models import Kind, OutboxMessage, PatientCancellation, Status
from treatments.models import (
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingHours,
)
from treatments.products.models import Ingredient, Lot, Product
from treatments.selectors import availability_for
from treatments.waitlist.models import Entry

pytestmark = pytest.mark.django_db

# A Wednesday morning in London, so the two weeks hold both history and bookings.
NOW = dt.datetime(2026, 11, 18, 10, 7, tzinfo=dt.UTC)
LOGINS = {
    "frontdesk": Role.FRONT_DESK,
    "drsmith": Role.PRACTITIONER,
    "nursejones": Role.PRACTITIONER,
    "therapist": Role.THERAPIST,
    "manager": Role.MANAGER,
}
MODELS = [
    User,
    Product,
    Lot,
    Ingredient,
    StaffProfile,
    WorkingHours,
    Room,
    SessionType,
    OpeningHours,
    Clinic,
    Patient,
    ConsentChange,
    Session,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


@pytest.fixture
def seeded():
    with time_machine.travel(NOW, tick=False):
        output = seed()
    return output


def test_it_loads_the_demo_clinic(seeded):
    clinic = Clinic.objects.get()
    assert (clinic.name, clinic.timezone) == ("Mesoclinic Demo Clinic", "Europe/London")
    assert Room.objects.filter(active=True).count() == 2
    assert Patient.objects.filter(email__endswith="@example.test").count() == 40
    assert StaffProfile.objects.filter(bookable=True).count() == 3
    assert set(SessionType.objects.values_list("name", flat=True)) >= {
        "Face",
        "Scalp",
        "Body",
        "Face, neck and décolletage",
    }
    assert "mesoclinic-demo" in seeded and "http://127.0.0.1:8000/" in seeded
    assert Entry.objects.filter(status=Entry.Status.ACTIVE).count() == 2


def test_running_it_twice_creates_nothing_the_second_time(seeded):
    before = counts()
    with time_machine.travel(NOW, tick=False):
        output = seed()
    assert counts() == before
    assert "nothing to create" in output


def test_every_demo_login_works_with_the_readme_password(seeded):
    for username, role in LOGINS.items():
        # A request, as django-axes checks locks by client address.
        credentials = {"username": username, "password": "mesoclinic-demo"}
        assert Client().login(request=HttpRequest(), **credentials), username
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role.value]
        assert StaffProfile.objects.filter(user=user).exists()


def test_the_practitioners_have_their_qualifications(seeded):
    profiles = {
        p.user.username: p
        for p in StaffProfile.objects.select_related("user").filter(bookable=True)
    }
    assert set(profiles) == {"drsmith", "nursejones", "therapist"}
    assert (profiles["drsmith"].qualification, profiles["drsmith"].registration_body) == (
        "doctor",
        "GMC",
    )
    assert (profiles["nursejones"].qualification, profiles["nursejones"].registration_body) == (
        "nurse",
        "NMC",
    )
    assert profiles["therapist"].qualification == "therapist"
    weekly = {
        name: sorted(profile.working_hours.values_list("weekday", flat=True))
        for name, profile in profiles.items()
    }
    assert weekly["drsmith"] != weekly["nursejones"]


def assert_no_overlap() -> None:
    held = defaultdict(list)
    for s in Session.objects.filter(status__in=Session.ACTIVE):
        held[("practitioner", s.practitioner_id)].append((s.starts_at, s.blocked_until))
        held[("room", s.room_id)].append((s.starts_at, s.blocked_until))
    for slots in held.values():
        slots.sort()
        for (_, first_end), (second_start, _) in pairwise(slots):
            assert first_end <= second_start


def test_no_two_active_sessions_overlap_for_a_practitioner_or_a_room(seeded):
    assert Session.objects.filter(status__in=Session.ACTIVE).count() > 60
    assert_no_overlap()


def test_sessions_cover_two_weeks_with_history_before_and_bookings_after(seeded):
    sessions = list(Session.objects.select_related("session_type", "practitioner"))
    past = [s for s in sessions if s.ends_at <= NOW]
    future = [s for s in sessions if s.starts_at > NOW]
    assert len(past) >= 30 and len(future) >= 30
    # All booked, but the one the patient cancelled by email link (test below).
    assert Counter(s.status for s in future) == Counter(
        {Session.Status.BOOKED: len(future) - 1, Session.Status.CANCELLED: 1}
    )
    statuses = Counter(s.status for s in past)
    assert statuses[Session.Status.COMPLETED] > statuses[Session.Status.NO_SHOW] > 0
    assert statuses[Session.Status.CANCELLED] > 0
    zone = Clinic.objects.get().zone
    days = {s.starts_at.astimezone(zone).date() for s in sessions}
    assert min(days) >= NOW.date() - dt.timedelta(days=7)
    assert max(days) <= NOW.date() + dt.timedelta(days=7)


def test_every_session_is_within_its_practitioners_hours_and_qualification(seeded):
    zone = Clinic.objects.get().zone
    sessions = list(Session.objects.select_related("session_type", "practitioner"))
    first = NOW.date() - dt.timedelta(days=7)
    available = availability_for(
        staff_ids={s.practitioner_id for s in sessions}, first_day=first, days=15, zone=zone
    )
    for s in sessions:
        day = s.starts_at.astimezone(zone).date()
        assert any(
            start <= s.starts_at and s.ends_at <= end
            for start, end in available[(s.practitioner_id, day)]
        )
        assert s.practitioner.is_medical or not s.session_type.medical_only
        assert s.starts_at.minute % 15 == 0


def test_a_run_on_a_later_day_only_adds_the_new_days(seeded):
    before = Session.objects.count()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        seed()
    assert Patient.objects.count() == 40
    assert Session.objects.count() > before
    assert_no_overlap()


def test_it_leaves_a_clinic_the_manager_has_named_alone(db):
    Clinic.objects.update_or_create(pk=1, defaults={"name": "Harley Meso", "timezone": "UTC"})
    with time_machine.travel(NOW, tick=False):
        seed()
    assert Clinic.objects.get().name == "Harley Meso"


def test_the_demo_has_registered_products_with_usable_lots(seeded):
    from treatments.products.services import product_is_usable

    lots = list(Lot.objects.select_related("product"))
    assert len(lots) == 3
    assert all(product_is_usable(lot.product) for lot in lots)
    assert all(lot.expiry_date > timezone.localdate() for lot in lots)


def test_a_newcomer_signs_in_to_the_demo_with_the_code_demo_codes_prints(seeded):
    assert "demo_codes" in seeded
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        out = StringIO()
        call_command("demo_codes", stdout=out)
        codes = dict(re.findall(r"^\s+(\w+)\s+(\d{6})$", out.getvalue(), re.MULTILINE))
        assert set(codes) == {"drsmith", "nursejones", "therapist", "manager"}
        for username in codes:
            client = Client()
            client.post(reverse("login"), {"username": username, "password": "mesoclinic-demo"})
            assert client.get("/calendar/")["Location"].startswith("/accounts/two-factor/")
            client.post("/accounts/two-factor/", {"code": codes[username]})
            assert client.get("/calendar/").status_code == 200, username
    # The front desk signs in with the password alone (the demo clinic does not require it).
    desk = Client()
    desk.post(reverse("login"), {"username": "frontdesk", "password": "mesoclinic-demo"})
    assert desk.get("/calendar/").status_code == 200


def test_recently_completed_sessions_have_aftercare_emails_ready_to_go(seeded):
    completed = Session.objects.filter(status=Session.Status.COMPLETED)
    aftercare = OutboxMessage.objects.filter(kind__in=[Kind.AFTERCARE_24H, Kind.AFTERCARE_48H])
    assert aftercare.exists()
    assert set(aftercare.values_list("session_id", flat=True)) <= set(
        completed.values_list("pk", flat=True)
    )
    mail.outbox.clear()
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        dispatch_in_process()
    assert any("aftercare" in m.subject.lower() for m in mail.outbox), [
        m.subject for m in mail.outbox
    ]


def test_courses_started_days_ago_have_their_follow_up_nudges_due(seeded):
    zone = Clinic.objects.get().zone
    courses = list(Course.objects.select_related("patient").prefetch_related("steps__session"))
    assert len(courses) == 3
    for course in courses:
        first, second = sorted(course.steps.all(), key=lambda step: step.number)[:2]
        assert first.session.status == Session.Status.COMPLETED and second.session is None
        held = first.session.starts_at.astimezone(zone).date()
        assert held + dt.timedelta(days=course.interval_min_days) <= NOW.date()
        assert course.patient.marketing_consent
    nudges = OutboxMessage.objects.filter(kind=Kind.FOLLOW_UP, status=Status.PENDING)
    assert {m.course_id for m in nudges} == {c.pk for c in courses}
    assert all(m.due_at <= NOW + dt.timedelta(minutes=1) for m in nudges)


def test_after_the_first_dispatch_aftercare_and_follow_up_emails_are_files(
    seeded, settings, tmp_path
):
    """What `make run` shows: its first dispatcher run writes both kinds to var/mail/, one
    readable .eml file per message."""
    settings.EMAIL_BACKEND = "mesoclinic.mail_files.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "var-mail"
    due = OutboxMessage.objects.filter(status=Status.PENDING, due_at__lte=NOW)
    assert due.filter(kind__in=[Kind.AFTERCARE_24H, Kind.AFTERCARE_48H]).exists()
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        dispatch_in_process()
    sent = OutboxMessage.objects.filter(status=Status.SENT)
    assert sent.filter(kind__in=[Kind.AFTERCARE_24H, Kind.AFTERCARE_48H]).exists()
    assert sent.filter(kind=Kind.FOLLOW_UP).count() == 3
    names = [f.name for f in (tmp_path / "var-mail").iterdir()]
    assert all(name.endswith(".eml") for name in names)
    assert any("aftercare" in name for name in names), names
    assert sum("time-to-book-your-next-session" in name for name in names) == 3, names


def test_the_desk_sees_a_patient_cancellation_by_email_link_on_today(seeded):
    [notice] = PatientCancellation.objects.select_related("session__patient")
    assert notice.session.status == Session.Status.CANCELLED
    assert notice.session.starts_at > NOW and notice.acknowledged_at is None
    desk = Client()
    desk.post(reverse("login"), {"username": "frontdesk", "password": "mesoclinic-demo"})
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        html = desk.get(reverse("treatments:today")).content.decode()
    assert f'data-patient-cancellation="{notice.pk}"' in html
    assert f"{notice.session.patient.full_name}</a>" in html


def test_early_in_the_morning_the_follow_up_nudges_are_due_at_once(db):
    # Before 09:00 (the nudges' send hour): a window opening today would wait until then.
    early = NOW.replace(hour=7, minute=30)
    with time_machine.travel(early, tick=False):
        seed()
    nudges = OutboxMessage.objects.filter(kind=Kind.FOLLOW_UP, status=Status.PENDING)
    assert nudges.count() == 3
    assert all(m.due_at <= early for m in nudges)
