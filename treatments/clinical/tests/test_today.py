"""Today: the practitioner's list with readiness badges, the desk's without clinical detail.

Now is frozen at Friday 20 March 2026, 08:00 GMT (Europe/London).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical.models import Reaction, SessionRecord
from treatments.clinical.services.photos import photo_upload
from treatments.messaging.models import SessionConfirmation
from treatments.models import Session
from treatments.tests.factories import SessionFactory, StaffProfileFactory

from .factories import make_consent, make_photo_consent, make_screening, png_bytes

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)
TODAY = reverse("clinical:today")
DESK = reverse("treatments:today")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(hh: int, mm: int = 0, day: int = 20) -> dt.datetime:
    return dt.datetime(2026, 3, day, hh, mm, tzinfo=LONDON)


def book(practitioner, face, room, hh: int, mm: int = 0, patient=None, **kw) -> Session:
    return SessionFactory.create(
        patient=patient or PatientFactory(),
        practitioner=practitioner,
        session_type=face,
        room=room,
        starts_at=at(hh, mm),
        **kw,
    )


def rows(html: str) -> list[str]:
    return re.findall(r'data-today-row="(\d+)"', html)


def row_html(html: str, session: Session) -> str:
    start = html.index(f'data-today-row="{session.pk}"')
    return html[start : html.index("</tr>", start)]


@pytest.mark.parametrize(
    ("persona", "lands_on"),
    [
        ("practitioner", TODAY),
        ("therapist", TODAY),
        ("front_desk", DESK),
        ("manager", reverse("treatments:calendar")),
    ],
)
def test_each_role_lands_on_its_day(request, persona, lands_on):
    response = request.getfixturevalue(persona).get(reverse("home"))
    assert (response.status_code, response["Location"]) == (302, lands_on)


def test_the_practitioners_list_is_their_day_in_time_order_with_readiness_badges(
    practitioner, practitioner_profile, face, room
):
    user = practitioner_profile.user
    ready = book(practitioner_profile, face, room, 11)
    make_screening(ready.patient, user)
    make_consent(ready.patient, face, user)
    make_photo_consent(ready.patient, user)
    SessionRecord.objects.create(
        session=ready,
        patient=ready.patient,
        author=user,
        technique="syringe",
        depth="superficial",
    )
    photo_upload(
        session=ready,
        stage="before",
        zone="cheeks",
        view="frontal",
        upload=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
        by=user,
    )
    Reaction.objects.create(
        session=ready,
        patient=ready.patient,
        type="bruising",
        severity="mild",
        onset=at(7),
        source="practitioner",
    )
    unready = book(practitioner_profile, face, room, 9)
    someone_elses = book(StaffProfileFactory(), face, room, 14)
    tomorrow = SessionFactory(practitioner=practitioner_profile, starts_at=at(10, day=21))
    cancelled = book(practitioner_profile, face, room, 16, status=Session.Status.CANCELLED)

    html = practitioner.get(TODAY).content.decode()
    assert rows(html) == [str(unready.pk), str(ready.pk)]
    assert str(someone_elses.pk) not in rows(html) and str(tomorrow.pk) not in rows(html)
    assert str(cancelled.pk) not in rows(html)
    first, second = row_html(html, unready), row_html(html, ready)
    assert reverse("clinical:record", args=[unready.pk]) in first
    for badge in ("screening due", "consent missing", "record not started", "no photos"):
        assert badge in first
    assert "reaction" not in first
    for badge in ("screening valid", "consent valid", "record draft", "1 photo", "1 reaction open"):
        assert badge in second


def test_the_clinical_today_list_is_audited_like_the_dashboard(practitioner, practitioner_profile):
    practitioner.get(TODAY)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIEW, object_type="today")
    assert entry.actor_id == practitioner_profile.user_id


def test_a_session_completed_at_the_desk_unsigned_is_flagged_on_the_practitioners_list(
    practitioner, practitioner_profile, face, room
):
    done = book(
        practitioner_profile, face, room, 7, status=Session.Status.COMPLETED, record_flagged_at=NOW
    )
    earlier = SessionFactory(
        practitioner=practitioner_profile,
        session_type=face,
        room=room,
        starts_at=at(10, day=18),
        status=Session.Status.COMPLETED,
        record_flagged_at=at(11, day=18),
    )
    html = practitioner.get(TODAY).content.decode()
    assert "data-record-flagged" in row_html(html, done)
    flagged = html[html.index('id="records-flagged"') :]
    assert reverse("clinical:record", args=[earlier.pk]) in flagged
    SessionRecord.objects.create(
        session=earlier,
        patient=earlier.patient,
        author=practitioner_profile.user,
        technique="syringe",
        depth="superficial",
        signed_at=NOW,
        signed_by=practitioner_profile.user,
    )
    html = practitioner.get(TODAY).content.decode()
    assert reverse("clinical:record", args=[earlier.pk]) not in html


def test_the_desk_sees_arrivals_confirmations_and_flags_without_clinical_detail(
    front_desk, practitioner_profile, face, room
):
    confirmed = book(practitioner_profile, face, room, 9)
    SessionConfirmation.objects.create(session=confirmed, confirmed_at=NOW)
    arrived = book(practitioner_profile, face, room, 7, status=Session.Status.ARRIVED)
    no_show = book(practitioner_profile, face, room, 11, status=Session.Status.NO_SHOW)
    Reaction.objects.create(
        session=arrived,
        patient=arrived.patient,
        type="bruising",
        severity="mild",
        onset=at(7),
        source="practitioner",
    )
    html = front_desk.get(DESK).content.decode()
    assert rows(html) == [str(arrived.pk), str(confirmed.pk), str(no_show.pk)]
    assert "data-confirmed" in row_html(html, confirmed)
    assert "data-confirmed" not in row_html(html, arrived)
    assert "screening due" in row_html(html, arrived)  # the desk's label, no detail
    assert "No-show" in row_html(html, no_show)
    for clinical in ("reaction", "record", "photo", "bruising"):
        assert clinical not in html.lower().split("<main", 1)[-1]


@pytest.mark.parametrize(("client_name", "url"), [("practitioner", TODAY), ("front_desk", DESK)])
def test_the_today_lists_read_a_fixed_number_of_queries(
    request, client_name, url, practitioner_profile, face, room
):
    client = request.getfixturevalue(client_name)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for hour in (8, 9):
        book(practitioner_profile, face, room, hour)
    small = count()
    for hour in range(10, 19):
        session = book(practitioner_profile, face, room, hour)
        SessionConfirmation.objects.create(session=session, confirmed_at=NOW)
    assert count() == small
