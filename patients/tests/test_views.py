import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import ConsentChange, Patient
from patients.services import patient_consent_set
from patients.tests.factories import PatientFactory
from treatments.tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

ALLOWED = ["front_desk", "practitioner", "therapist", "manager"]

VALID = {
    "first_name": "Ann",
    "last_name": "Smith",
    "date_of_birth": "14/03/1985",
    "phone": "+44 7700 900123",
    "email": "ann.smith@example.test",
    "address": "1 High Street\nLondon",
    "email_reminders_consent": "on",
}


@pytest.fixture
def patient(clinic):
    return PatientFactory(first_name="Zed", last_name="Zebedee", date_of_birth=dt.date(1980, 5, 6))


# Who may open each page is in tests/test_access.py (one matrix for every URL); here, the
# consent change a role posts, and that a refused post changes nothing.


@pytest.mark.parametrize("persona", ALLOWED)
def test_every_booking_role_can_record_a_consent_change(request, patient, persona):
    client = request.getfixturevalue(persona)
    url = reverse("patients:patient_consent", args=[patient.pk])
    response = client.post(url, {"kind": "marketing", "given": "1"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.marketing_consent is True


def test_a_refused_consent_post_changes_nothing(outsider, patient):
    url = reverse("patients:patient_consent", args=[patient.pk])
    assert outsider.post(url, {"kind": "marketing", "given": "1"}).status_code == 403
    patient.refresh_from_db()
    assert patient.marketing_consent is False


def test_a_missing_patient_is_a_404(front_desk):
    assert front_desk.get(reverse("patients:patient_detail", args=[999999])).status_code == 404
    assert front_desk.get(reverse("patients:patient_edit", args=[999999])).status_code == 404


# --- list and live search ---------------------------------------------------------------------


def test_the_list_shows_recent_patients_before_a_search(front_desk, patient):
    response = front_desk.get(reverse("patients:patient_list"))
    assert "Recently registered" in response.content.decode()
    assert "Zebedee, Zed" in response.content.decode()


def test_the_list_has_a_helpful_empty_state(front_desk, clinic):
    response = front_desk.get(reverse("patients:patient_list"))
    assert "No patients yet" in response.content.decode()


def test_a_search_shows_matches_as_a_full_page(front_desk, patient):
    PatientFactory(first_name="Other", last_name="Person")
    response = front_desk.get(reverse("patients:patient_list"), {"q": "zeb"})
    body = response.content.decode()
    assert "<html" in body
    assert "Zebedee, Zed" in body
    assert "Person, Other" not in body
    assert reverse("patients:patient_detail", args=[patient.pk]) in body


def test_htmx_gets_only_the_results_fragment(front_desk, patient):
    response = front_desk.get(
        reverse("patients:patient_list"), {"q": "06/05/1980"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" not in body
    assert "Zebedee, Zed" in body
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_full_page(front_desk, patient):
    response = front_desk.get(
        reverse("patients:patient_list"),
        {"q": "zeb"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_a_search_with_no_match_offers_to_register(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_list"), {"q": "nobody"}).content.decode()
    assert "No patient matches" in body
    assert reverse("patients:patient_create") in body


def test_an_impossible_date_search_says_so(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_list"), {"q": "30/02/1980"}).content.decode()
    assert "not a real date" in body


@pytest.mark.parametrize("q", ["x" * 10_000, "a\x00b"])
def test_an_unreadable_search_is_explained_not_an_error(front_desk, patient, q):
    response = front_desk.get(reverse("patients:patient_list"), {"q": q})
    assert response.status_code == 200
    assert "could not be read" in response.content.decode()


def test_search_markup_is_escaped(front_desk, patient):
    body = front_desk.get(
        reverse("patients:patient_list"), {"q": "<script>alert(1)</script>"}
    ).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


# --- picker -----------------------------------------------------------------------------------


def test_the_picker_renders_buttons_the_booking_form_can_read(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_picker"), {"q": "zed"}).content.decode()
    assert 'role="listbox" id="patient-listbox"' in body
    assert (
        '<button type="button" class="list-group-item list-group-item-action" role="option" '
        f'aria-selected="false" tabindex="-1" id="patient-option-{patient.pk}" '
        f'data-patient-id="{patient.pk}" data-patient-label="Zed Zebedee (6 May 1980)">'
    ) in body
    assert "<html" not in body


def test_the_picker_shows_at_most_ten(front_desk, clinic):
    PatientFactory.create_batch(15, last_name="Many")
    body = front_desk.get(reverse("patients:patient_picker"), {"q": "many"}).content.decode()
    assert body.count("data-patient-id=") == 10


def test_the_picker_without_a_query_asks_for_one(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_picker")).content.decode()
    assert "data-patient-id" not in body
    assert "Type a name" in body


# --- create -----------------------------------------------------------------------------------


def test_registering_a_patient_saves_and_shows_them(front_desk, front_desk_user, clinic):
    response = front_desk.post(reverse("patients:patient_create"), VALID)
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient_detail", args=[patient.pk])
    assert patient.phone_digits == "+447700900123"
    assert patient.date_of_birth == dt.date(1985, 3, 14)
    assert patient.email_reminders_consent is True
    assert patient.marketing_consent is False
    assert patient.created_by == front_desk_user
    assert patient.consent_changes.count() == 1


def test_an_iso_date_is_accepted_too(front_desk, clinic):
    front_desk.post(reverse("patients:patient_create"), {**VALID, "date_of_birth": "1985-03-14"})
    assert Patient.objects.get().date_of_birth == dt.date(1985, 3, 14)


def test_a_possible_duplicate_is_shown_with_links_and_nothing_is_saved(front_desk, clinic):
    existing = PatientFactory(
        first_name="ann", last_name="SMITH", date_of_birth=dt.date(1985, 3, 14)
    )
    response = front_desk.post(reverse("patients:patient_create"), VALID)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Already registered?" in body
    assert reverse("patients:patient_detail", args=[existing.pk]) in body
    assert 'name="confirm_duplicate"' in body
    assert Patient.objects.count() == 1


def test_create_anyway_registers_the_second_patient(front_desk, clinic):
    PatientFactory(first_name="Ann", last_name="Smith", date_of_birth=dt.date(1985, 3, 14))
    response = front_desk.post(
        reverse("patients:patient_create"), {**VALID, "confirm_duplicate": "on"}
    )
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_the_create_anyway_box_is_hidden_until_there_is_a_match(front_desk, clinic):
    body = front_desk.get(reverse("patients:patient_create")).content.decode()
    assert 'name="confirm_duplicate"' not in body
    assert 'name="email_reminders_consent"' in body


BAD_INPUT = [
    ("first_name", "", "This field is required"),
    ("last_name", "", "This field is required"),
    ("date_of_birth", "", "This field is required"),
    ("first_name", "A" * 10_000, "at most 100 characters"),
    ("last_name", "A" * 10_000, "at most 100 characters"),
    ("address", "x" * 10_000, "at most 500 characters"),
    ("email", "a" * 10_000 + "@example.test", "at most 254 characters"),
    ("phone", "1" * 10_000, "at most 32 characters"),
    ("date_of_birth", "1" * 10_000, "Enter a valid date"),
    ("first_name", "Ann\x00", "Null characters are not allowed"),
    ("address", "1 High St\x00", "Null characters are not allowed"),
    ("email", "ann\x00@example.test", "Null characters are not allowed"),
    ("first_name", "<script>alert(1)</script>", "cannot contain &lt; or &gt;"),
    ("last_name", "Smith<b>", "cannot contain &lt; or &gt;"),
    ("address", "<script>alert(1)</script>", "cannot contain &lt; or &gt;"),
    ("first_name", "Ann😀", "Use letters only"),
    ("last_name", "Sm1th", "Use letters only"),
    ("last_name", "Smith\u202e", "hidden or control characters"),
    ("first_name", "---", "Enter the name in letters"),
    ("email", "not-an-email", "Enter a valid email address"),
    ("email", "ann😀@example.test", "Enter a valid email address"),
    ("phone", "call me", "Use digits, spaces"),
    ("phone", "12345", "7 to 20 digits"),
    ("phone", "+44 7700 900123 ext 5", "Use digits, spaces"),
    ("phone", "44+7700900123", "Use digits, spaces"),
    ("date_of_birth", "2026-02-30", "Enter a valid date"),
    ("date_of_birth", "30/02/1985", "Enter a valid date"),
    ("date_of_birth", "1899-12-31", "before 1900"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(
    front_desk, clinic, field, value, message
):
    response = front_desk.post(reverse("patients:patient_create"), {**VALID, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert message in response.content.decode()
    assert not Patient.objects.exists()
    assert not ConsentChange.objects.exists()


def test_a_date_of_birth_in_the_future_is_refused(front_desk, clinic):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = front_desk.post(
        reverse("patients:patient_create"), {**VALID, "date_of_birth": tomorrow.isoformat()}
    )
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not Patient.objects.exists()


def test_accented_and_other_scripts_in_names_are_welcome(front_desk, clinic):
    front_desk.post(
        reverse("patients:patient_create"),
        {**VALID, "first_name": "Zoë-Ångström", "last_name": "O’Brien-Nguyễn 山田"},
    )
    assert Patient.objects.get().last_name == "O’Brien-Nguyễn 山田"


def test_emoji_in_the_address_are_kept(front_desk, clinic):
    front_desk.post(reverse("patients:patient_create"), {**VALID, "address": "Flat 2 🏠"})
    assert Patient.objects.get().address == "Flat 2 🏠"


def test_phone_and_email_are_optional(front_desk, clinic):
    response = front_desk.post(
        reverse("patients:patient_create"), {**VALID, "phone": "", "email": ""}
    )
    assert response.status_code == 302
    assert Patient.objects.get().phone_digits == ""


# --- edit -------------------------------------------------------------------------------------


def test_editing_saves_details_and_phone_digits(front_desk, patient):
    data = {**VALID, "phone": "(020) 7946-0958"}
    response = front_desk.post(reverse("patients:patient_edit", args=[patient.pk]), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.full_name, patient.phone_digits) == ("Ann Smith", "+442079460958")


def test_the_phone_link_dials_the_number_with_its_country_code(front_desk, clinic):
    front_desk.post(reverse("patients:patient_create"), {**VALID, "phone": "07700 900031"})
    patient = Patient.objects.get()
    body = front_desk.get(reverse("patients:patient_detail", args=[patient.pk])).content.decode()
    assert 'href="tel:+447700900031"' in body


def test_the_edit_form_shows_the_current_details(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_edit", args=[patient.pk])).content.decode()
    assert 'value="06/05/1980"' in body
    assert f'value="{patient.phone}"' in body
    main = body.split("<main", 1)[1]
    assert main.count('name="csrfmiddlewaretoken"') == 1


def test_a_refused_date_stays_on_screen_as_typed(front_desk, clinic):
    response = front_desk.post(
        reverse("patients:patient_create"), {**VALID, "date_of_birth": "30/02/1985"}
    )
    assert 'value="30/02/1985"' in response.content.decode()


def test_editing_cannot_change_consents(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_edit", args=[patient.pk])).content.decode()
    assert 'name="marketing_consent"' not in body
    front_desk.post(
        reverse("patients:patient_edit", args=[patient.pk]), {**VALID, "marketing_consent": "on"}
    )
    patient.refresh_from_db()
    assert patient.marketing_consent is False


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_on_edit_changes_nothing(front_desk, patient, field, value, message):
    before = Patient.objects.values().get(pk=patient.pk)
    response = front_desk.post(
        reverse("patients:patient_edit", args=[patient.pk]), {**VALID, field: value}
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Patient.objects.values().get(pk=patient.pk) == before


# --- consent ----------------------------------------------------------------------------------


def test_consent_can_be_given_then_withdrawn_from_the_patient_page(front_desk, patient):
    url = reverse("patients:patient_consent", args=[patient.pk])
    front_desk.post(url, {"kind": "marketing", "given": "1"})
    front_desk.post(url, {"kind": "marketing", "given": "0"})
    patient.refresh_from_db()
    assert patient.marketing_consent is False
    assert list(patient.consent_changes.order_by("id").values_list("given", flat=True)) == [
        True,
        False,
    ]
    body = front_desk.get(reverse("patients:patient_detail", args=[patient.pk])).content.decode()
    assert "Withdrawn" in body
    assert "History (2)" in body


def test_a_repeated_consent_post_records_one_change(front_desk, patient):
    url = reverse("patients:patient_consent", args=[patient.pk])
    front_desk.post(url, {"kind": "marketing", "given": "1"})
    response = front_desk.post(url, {"kind": "marketing", "given": "1"}, follow=True)
    assert "already given" in response.content.decode()
    assert patient.consent_changes.count() == 1


@pytest.mark.parametrize(
    "data", [{}, {"kind": "sms", "given": "1"}, {"kind": "marketing", "given": "maybe"}]
)
def test_a_malformed_consent_post_changes_nothing(front_desk, patient, data):
    response = front_desk.post(reverse("patients:patient_consent", args=[patient.pk]), data)
    assert response.status_code == 302
    assert not patient.consent_changes.exists()


def test_consent_changes_only_by_post(front_desk, patient):
    response = front_desk.get(reverse("patients:patient_consent", args=[patient.pk]))
    assert response.status_code == 405


# --- detail -----------------------------------------------------------------------------------


def test_the_patient_page_shows_details_consents_flags_and_a_booking_link(front_desk, patient):
    body = front_desk.get(reverse("patients:patient_detail", args=[patient.pk])).content.decode()
    assert patient.email in body
    assert patient.phone in body
    assert "Email reminders and aftercare" in body
    assert "Follow-up and maintenance nudges" in body
    assert 'id="patient-flags"' in body
    assert f"{reverse('treatments:session_create')}?patient={patient.pk}" in body
    assert "No upcoming sessions" in body
    assert "No past sessions yet" in body


def test_flags_in_the_context_are_shown(rf, front_desk_user, patient):
    from django.template.loader import render_to_string

    html = render_to_string("patients/_flags.html", {"flags": ["Safety flag"]})
    assert "Safety flag" in html
    assert "No safety flags" not in html


def test_session_times_are_shown_in_the_clinic_zone(front_desk, patient):
    # 09:00 UTC on a summer day is 10:00 in London (BST).
    SessionFactory(patient=patient, starts_at=dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC))
    body = front_desk.get(reverse("patients:patient_detail", args=[patient.pk])).content.decode()
    assert "Tue 1 Jul 2025, 10:00–10:45" in body


def test_upcoming_and_past_sessions_are_listed_with_their_status(front_desk, patient):
    past = SessionFactory(
        patient=patient, starts_at=timezone.now() - dt.timedelta(days=10), status="completed"
    )
    SessionFactory(
        patient=patient,
        starts_at=timezone.now() + dt.timedelta(days=10),
        session_type=past.session_type,
        practitioner=past.practitioner,
        room=past.room,
    )
    response = front_desk.get(reverse("patients:patient_detail", args=[patient.pk]))
    sessions = response.context["sessions"]
    assert [s.status for s in sessions.upcoming] == ["booked"]
    assert [s.status for s in sessions.past] == ["completed"]
    body = response.content.decode()
    assert "Completed" in body
    assert "Booked" in body


# --- query counts do not grow with rows ------------------------------------------------------

# Every page: clinic zone, session, user, the second factor's device, user's groups (5). Then
# the page's own reads: one search query for the lists; patient, consent history, its recorders
# and sessions for the patient page (plus whatever the safety-flags area reads). Each page must
# run the same number of queries for 1 row as for 200, and never more than these ceilings.
LIST_QUERY_CEILING = 6
DETAIL_QUERY_CEILING = 15  # one of them: the "see practitioner" flag (questionnaire)


def _queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(queries), response


def test_the_search_page_queries_do_not_grow_with_patients(
    front_desk, clinic, django_assert_max_num_queries
):
    url = reverse("patients:patient_list")
    PatientFactory(last_name="Smith")
    with_one, _ = _queries(front_desk, url, {"q": "smi"})
    PatientFactory.create_batch(199, last_name="Smith")
    with django_assert_max_num_queries(min(with_one, LIST_QUERY_CEILING)):
        response = front_desk.get(url, {"q": "smi"})
    assert len(response.context["results"]) == 50


@pytest.mark.parametrize("name", ["patient_list", "patient_picker"])
def test_the_recent_list_and_picker_queries_do_not_grow_with_patients(
    front_desk, clinic, name, django_assert_max_num_queries
):
    url = reverse(f"patients:{name}")
    data = {"q": "smi"} if name == "patient_picker" else {}
    PatientFactory(last_name="Smith")
    with_one, _ = _queries(front_desk, url, data)
    PatientFactory.create_batch(199, last_name="Smith")
    with django_assert_max_num_queries(min(with_one, LIST_QUERY_CEILING)):
        front_desk.get(url, data)


def test_the_patient_page_queries_do_not_grow_with_sessions_or_consent_changes(
    front_desk, front_desk_user, patient, django_assert_max_num_queries
):
    url = reverse("patients:patient_detail", args=[patient.pk])
    first = SessionFactory(patient=patient, starts_at=timezone.now() - dt.timedelta(days=100))
    patient_consent_set(patient=patient, kind="marketing", given=True, by=front_desk_user)
    with_one, _ = _queries(front_desk, url)

    start = timezone.now() - dt.timedelta(days=50)
    for i in range(1, 200):
        SessionFactory(
            patient=patient,
            starts_at=start + dt.timedelta(hours=2 * i),
            session_type=first.session_type,
            practitioner=first.practitioner,
            room=first.room,
        )
    for i in range(1, 20):
        patient_consent_set(patient=patient, kind="marketing", given=i % 2 == 0, by=front_desk_user)
    with django_assert_max_num_queries(min(with_one, DETAIL_QUERY_CEILING)):
        response = front_desk.get(url)
    sessions = response.context["sessions"]
    assert len(sessions.upcoming) + len(sessions.past) == 200
