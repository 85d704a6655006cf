import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.selectors import (
    parse_search_query,
    patient_detail_get,
    patients_search,
)
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory
from treatments.models import Session
from treatments.selectors import patient_sessions
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "ann": PatientFactory(
            first_name="Ann",
            last_name="Smith",
            date_of_birth=dt.date(1985, 3, 14),
            email="ann.smith@example.test",
            phone="+44 7700 900123",
            phone_digits="+447700900123",
        ),
        "anna": PatientFactory(
            first_name="Anna",
            last_name="Smith-Jones",
            date_of_birth=dt.date(1990, 7, 1),
            email="AJ@Mail.test",
            phone="020 7946 0958",
            phone_digits="+442079460958",
        ),
        "bob": PatientFactory(
            first_name="Bob",
            last_name="Annandale",
            date_of_birth=dt.date(1970, 1, 2),
            email="bob@example.test",
            phone="",
            phone_digits="",
        ),
    }


def names(results):
    return sorted(p.first_name for p in results)


def test_one_name_token_matches_the_start_of_first_or_last_name(people):
    assert names(patients_search(query="ann")) == ["Ann", "Anna", "Bob"]


def test_matching_ignores_case(people):
    assert names(patients_search(query="SMI")) == ["Ann", "Anna"]


def test_every_token_must_match_a_name(people):
    assert names(patients_search(query="ann smi")) == ["Ann", "Anna"]
    assert names(patients_search(query="smith ann")) == ["Ann", "Anna"]
    assert names(patients_search(query="bob smi")) == []


def test_a_token_matches_only_the_start_of_a_name(people):
    assert patients_search(query="mith") == []
    assert patients_search(query="jones") == []


@pytest.mark.parametrize(
    ("first", "last", "query"),
    [
        ("Liam", "O'Brien", "o'b"),
        ("Zoë", "Zyx", "zoë"),
        ("Lizzie", "Hart", "liz"),
        ("Zz", "Top", "zz"),
        ("Mary", "Smith-Jones", "smith-j"),
        ("Jo", "Ng", "ng"),
    ],
)
def test_prefixes_with_punctuation_accents_or_a_final_z_still_match(first, last, query):
    patient = PatientFactory(first_name=first, last_name=last)
    PatientFactory(first_name="Unrelated", last_name="Person")
    assert patients_search(query=query) == [patient]


@pytest.mark.parametrize(
    ("run", "expected"), [("wri", "wrj"), ("wrz", "ws"), ("zz", None), ("a9", "b"), ("08", "09")]
)
def test_the_range_upper_bound_is_just_above_every_prefix_match(run, expected):
    from patients.selectors import _next_after_prefix

    assert _next_after_prefix(run) == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("smi", "patient_name_lower"),
        ("ann", "patient_first_name_lower"),
        ("ann.smith@ex", "patient_email_lower"),
        ("14/03/1985", "patient_dob"),
    ],
)
def test_on_postgres_searches_can_use_the_indexes(people, query, index):
    from django.db import connection
    from django.db.models.functions import Lower

    from patients.models import Patient
    from patients.selectors import _search_filter

    qs = Patient.objects.annotate(
        first_lower=Lower("first_name"), last_lower=Lower("last_name"), email_lower=Lower("email")
    ).filter(_search_filter(parse_search_query(query)))
    with connection.cursor() as cursor:
        # A three-row table is always scanned; forbid that to see whether an index *can* serve it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert index in plan


def test_a_phone_matches_whatever_the_formatting(people):
    assert names(patients_search(query="+44 (7700) 900-123")) == ["Ann"]
    assert names(patients_search(query="900123")) == ["Ann"]
    assert names(patients_search(query="7946 0958")) == ["Anna"]


def test_a_national_number_with_a_trunk_zero_finds_an_international_one(people):
    assert names(patients_search(query="07700 900123")) == ["Ann"]
    assert names(patients_search(query="0044 20 7946 0958")) == ["Anna"]


def test_an_email_matches_by_prefix_or_part_ignoring_case(people):
    assert names(patients_search(query="aj@mail")) == ["Anna"]
    assert names(patients_search(query="@example.test")) == ["Ann", "Bob"]


def test_a_single_word_also_matches_the_start_of_an_email(people):
    assert names(patients_search(query="aj")) == ["Anna"]


@pytest.mark.parametrize("query", ["1985-03-14", "14/03/1985", "14.03.1985", "14/3/1985"])
def test_a_date_of_birth_matches_in_each_format(people, query):
    assert names(patients_search(query=query)) == ["Ann"]


def test_an_impossible_date_finds_nothing_and_says_why(people):
    assert parse_search_query("30/02/1985").kind == "bad_date"
    assert patients_search(query="30/02/1985") == []


@pytest.mark.parametrize(
    "query", ["", "   ", "\x00", "<script>alert(1)</script>", "😀", "x" * 10_000]
)
def test_odd_queries_return_a_list_without_error(people, query):
    assert isinstance(patients_search(query=query), list)


def test_like_wildcards_in_the_query_are_literal(people):
    assert patients_search(query="%") == []
    assert patients_search(query="_nn") == []


def test_results_are_limited(people):
    PatientFactory.create_batch(5, last_name="Smithers")
    assert len(patients_search(query="smi", limit=3)) == 3


def test_search_runs_one_query(people, django_assert_num_queries):
    for query in ("ann smi", "900123", "aj@", "14/03/1985"):
        with django_assert_num_queries(1):
            patients_search(query=query)


def test_patient_sessions_splits_upcoming_and_past_in_one_query(people, clinic):
    ann = people["ann"]
    now = timezone.now()
    past = SessionFactory(patient=ann, starts_at=now - dt.timedelta(days=30))
    older = SessionFactory(
        patient=ann,
        starts_at=now - dt.timedelta(days=60),
        session_type=past.session_type,
        practitioner=past.practitioner,
        room=past.room,
        status=Session.Status.COMPLETED,
    )
    soon = SessionFactory(
        patient=ann,
        starts_at=now + dt.timedelta(days=2),
        session_type=past.session_type,
        practitioner=past.practitioner,
        room=past.room,
    )
    SessionFactory(
        patient=people["bob"],
        starts_at=now + dt.timedelta(days=3),
        session_type=past.session_type,
        practitioner=past.practitioner,
        room=past.room,
    )
    with CaptureQueriesContext(connection) as queries:
        result = patient_sessions(patient=ann)
        # Reading the related rows the page shows costs nothing more.
        shown = [
            (s.session_type.name, s.practitioner.display_name, s.room.name)
            for s in result.upcoming + result.past
        ]
    assert len(queries) == 1
    assert len(shown) == 3
    assert result.upcoming == [soon]
    assert result.past == [past, older]


def test_patient_detail_get_prefetches_consent_history(
    people, front_desk_user, manager_user, django_assert_num_queries
):
    ann = people["ann"]
    for given, by in ((True, front_desk_user), (False, manager_user), (True, front_desk_user)):
        patient_consent_set(patient=ann, kind="marketing", given=given, by=by)
    with django_assert_num_queries(3):
        patient = patient_detail_get(pk=ann.pk)
        recorders = [c.recorded_by.username for c in patient.consent_changes.all()]
    assert recorders == ["frontdesk", "manager", "frontdesk"]
