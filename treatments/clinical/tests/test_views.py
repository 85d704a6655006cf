"""HTTP contract of the clinical screens: roles, audit, bad input, query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical import urls as clinical_urls
from treatments.clinical.models import (
    ClinicalPhoto,
    ConsentSignature,
    Consultation,
    Reaction,
    Screening,
    ScreeningRule,
    SessionRecord,
)
from treatments.clinical.selectors import consent_text_current
from treatments.clinical.services.photos import photo_upload
from treatments.clinical.services.reactions import reaction_report
from treatments.clinical.services.records import record_product_add, record_save
from treatments.models import Session
from treatments.tests.factories import SessionFactory

from .factories import make_consent, make_screening, png_bytes, record_data, signature_data_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(session, ready, lot, practitioner_profile, face):
    """One of everything, so every clinical URL has something to point at."""
    user = practitioner_profile.user
    patient = session.patient
    record = record_save(session=session, by=user, data=record_data())
    usage = record_product_add(record=record, lot=lot, volume_ml=Decimal("1"), by=user)
    photo = photo_upload(
        session=session,
        stage="before",
        zone="cheeks",
        view="frontal",
        upload=SimpleUploadedFile("a.png", png_bytes()),
        by=user,
    )
    reaction = reaction_report(
        session=session,
        patient=patient,
        type="bruising",
        severity="mild",
        onset=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        description="small bruise",
        source="practitioner",
        reported_by=user,
    )
    consultation = Consultation.objects.create(
        patient=patient,
        practitioner=user,
        skin_type="dry",
        fitzpatrick=2,
        hydration="low",
        elasticity="moderate",
        sensitivity="low",
        concerns=["rejuvenation"],
    )
    return {
        "patient_pk": patient.pk,
        "session_pk": session.pk,
        "usage_pk": usage.pk,
        "text_pk": consent_text_current(session_type=face).pk,
        "consultation": consultation.pk,
        "screening": ready[0].pk,
        "reaction": reaction.pk,
        "signature_key": ready[1].key,
        "photo_key": photo.key,
        "rule": ScreeningRule.objects.get(code="keloid").pk,
    }


PK_FOR = {
    "consultation_detail": "consultation",
    "consultation_edit": "consultation",
    "consultation_sign": "consultation",
    "consultation_addendum": "consultation",
    "screening_detail": "screening",
    "reaction_detail": "reaction",
    "screening_rule_edit": "rule",
}
MANAGER_ONLY = {"consent_texts", "screening_rules", "screening_rule_create", "screening_rule_edit"}
KEY_FOR = {
    "consent_signature": "signature_key",
    "consent_signature_image": "signature_key",
    "photo_file": "photo_key",
}


def all_clinical_urls(world):
    urls = []
    for pattern in clinical_urls.urlpatterns:
        name = pattern.name
        params = set(pattern.pattern.converters)
        kwargs = {}
        for param in params:
            if param == "pk":
                kwargs["pk"] = world[PK_FOR[name]]
            elif param == "key":
                kwargs["key"] = world[KEY_FOR[name]]
            else:
                kwargs[param] = world[param]
        urls.append((name, reverse(f"clinical:{name}", kwargs=kwargs)))
    return urls


def test_every_clinical_view_declares_clinical_or_management_roles():
    for pattern in clinical_urls.urlpatterns:
        roles = pattern.callback.access_roles
        assert roles, pattern.name
        assert "Front desk" not in {str(r) for r in roles}, pattern.name
    assert reverse("clinical:dashboard") == "/clinical/dashboard/"


def test_front_desk_gets_403_on_every_clinical_url(world, front_desk):
    for name, url in all_clinical_urls(world):
        assert front_desk.get(url).status_code == 403, name
        assert front_desk.post(url, {}).status_code == 403, name


def test_an_outsider_gets_403_on_every_clinical_url(world, outsider):
    for name, url in all_clinical_urls(world):
        assert outsider.get(url).status_code == 403, name


def test_anonymous_visitors_go_to_the_login_page(world, client):
    for name, url in all_clinical_urls(world):
        response = client.get(url)
        assert response.status_code == 302, name
        assert reverse("login") in response["Location"], name


@pytest.mark.parametrize("persona", ["practitioner", "therapist", "manager"])
def test_clinical_roles_can_open_every_page(world, persona, request):
    client = request.getfixturevalue(persona)
    post_only = {
        "consultation_sign",
        "consultation_addendum",
        "photo_consent_change",
        "record_product",
        "record_product_delete",
        "record_sign",
        "record_addendum",
    }
    for name, url in all_clinical_urls(world):
        if name in post_only:
            assert client.get(url).status_code == 405, name
            continue
        if name in MANAGER_ONLY and persona != "manager":
            assert client.get(url).status_code == 403
            continue
        assert client.get(url).status_code == 200, name


def test_photo_urls_use_random_keys_and_unknown_keys_are_404(world, practitioner):
    photo = ClinicalPhoto.objects.get()
    url = reverse("clinical:photo_file", kwargs={"key": photo.key})
    assert url == f"/clinical/photos/{photo.key}/"
    assert len(photo.image.name.rsplit("/", 1)[1]) == 36  # uuid4 hex + ".jpg"
    other = reverse("clinical:photo_file", kwargs={"key": "00000000-0000-4000-8000-000000000000"})
    assert practitioner.get(other).status_code == 404


def test_photo_file_is_served_privately_and_audited(world, practitioner, practitioner_profile):
    photo = ClinicalPhoto.objects.get()
    response = practitioner.get(reverse("clinical:photo_file", kwargs={"key": photo.key}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert AuditEntry.objects.filter(
        actor=practitioner_profile.user, action="download", object_type="clinicalphoto"
    ).exists()


# Blank forms show no clinical content (the consent form shows the clinic's text only).
BLANK_FORMS = {"consultation_create", "screening_create", "consent_sign", "reaction_create"}


def test_every_page_view_writes_an_audit_entry(world, practitioner):
    for name, url in all_clinical_urls(world):
        before = AuditEntry.objects.count()
        response = practitioner.get(url)
        if response.status_code == 405 or name in BLANK_FORMS or name in MANAGER_ONLY:
            continue
        assert AuditEntry.objects.count() == before + 1, name


def test_audit_entries_hold_no_clinical_text(world, practitioner):
    practitioner.get(reverse("clinical:patient", kwargs={"patient_pk": world["patient_pk"]}))
    for entry in AuditEntry.objects.all():
        assert "bruise" not in str(vars(entry))


# --- consultation -----------------------------------------------------------------------


CONSULTATION = {
    "concerns": ["rejuvenation", "fine_lines"],
    "goals": "Brighter skin",
    "skin_type": "dry",
    "fitzpatrick": "3",
    "hydration": "low",
    "elasticity": "moderate",
    "sensitivity": "low",
    "risks_explained": "on",
    "recommendation": "Hyaluronic acid cocktail",
    "plan_zones": ["cheeks"],
    "plan_protocol": "4 sessions 2 weeks apart",
    "plan_sessions": "4",
}


def test_a_consultation_is_drafted_edited_signed_then_only_takes_addenda(
    patient, practitioner, practitioner_profile, therapist
):
    url = reverse("clinical:consultation_create", kwargs={"patient_pk": patient.pk})
    response = practitioner.post(url, CONSULTATION)
    assert response.status_code == 302
    consultation = Consultation.objects.get(patient=patient)
    assert consultation.fitzpatrick == 3
    edit = reverse("clinical:consultation_edit", kwargs={"pk": consultation.pk})
    assert therapist.post(edit, CONSULTATION | {"goals": "x"}).status_code == 200
    consultation.refresh_from_db()
    assert consultation.goals == "Brighter skin"
    practitioner.post(reverse("clinical:consultation_sign", kwargs={"pk": consultation.pk}))
    consultation.refresh_from_db()
    assert consultation.is_signed
    response = practitioner.post(edit, CONSULTATION | {"goals": "changed"})
    assert "signed" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.goals == "Brighter skin"
    practitioner.post(
        reverse("clinical:consultation_addendum", kwargs={"pk": consultation.pk}),
        {"text": "Patient prefers mornings"},
    )
    assert consultation.addenda.get().author == practitioner_profile.user


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fitzpatrick", "7"),
        ("goals", "x" * 10_000),
        ("goals", "nul\x00byte"),
        ("concerns", []),
        ("plan_sessions", "many"),
        ("skin_type", "<script>"),
    ],
)
def test_bad_consultation_input_gets_a_field_message(patient, practitioner, field, value):
    url = reverse("clinical:consultation_create", kwargs={"patient_pk": patient.pk})
    response = practitioner.post(url, CONSULTATION | {field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Consultation.objects.exists()


# --- screening and consent -----------------------------------------------------------------


def test_a_screening_is_recorded_from_the_form(patient, practitioner):
    data = {f"rule_{rule.pk}": "no" for rule in ScreeningRule.objects.filter(active=True)}
    url = reverse("clinical:screening_create", kwargs={"patient_pk": patient.pk})
    missing = dict(data)
    missing.popitem()
    assert practitioner.post(url, missing).status_code == 200
    assert not Screening.objects.exists()
    assert practitioner.post(url, data).status_code == 302
    assert Screening.objects.filter(patient=patient).count() == 1


def test_consent_is_signed_with_a_drawing_and_the_image_is_served(
    patient, face, practitioner, front_desk
):
    text = consent_text_current(session_type=face)
    url = reverse("clinical:consent_sign", kwargs={"patient_pk": patient.pk, "text_pk": text.pk})
    response = practitioner.post(
        url, {"typed_name": "Jane Doe", "signature": "", "read_aloud": "on"}
    )
    assert response.status_code == 200
    assert "sign in the box" in response.content.decode()
    response = practitioner.post(
        url, {"typed_name": "Jane Doe", "signature": signature_data_url(), "read_aloud": "on"}
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get(patient=patient)
    image_url = reverse("clinical:consent_signature_image", kwargs={"key": signature.key})
    assert practitioner.get(image_url)["Content-Type"] == "image/png"
    assert front_desk.get(image_url).status_code == 403


def test_photo_consent_can_be_given_and_withdrawn(patient, practitioner):
    url = reverse("clinical:photo_consent_change", kwargs={"patient_pk": patient.pk})
    practitioner.post(url, {"purpose": "teaching", "given": "yes"})
    practitioner.post(url, {"purpose": "teaching", "given": "no"})
    practitioner.post(url, {"purpose": "nonsense", "given": "yes"})
    assert list(patient.photo_consents.values_list("given", flat=True)) == [False, True]


# --- record --------------------------------------------------------------------------------


def _record_post(**overrides):
    data = {
        "screening_reconfirmed": "on",
        "area_cleansed": "on",
        "photos_taken": "on",
        "technique": "syringe",
        "depth": "superficial",
        "spacing_mm": "10",
        "zones": ["cheeks"],
        "reactions_none": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_safety_refusal_shows_beside_the_field_and_saves_nothing(
    session, patient, face, practitioner, practitioner_profile
):
    make_screening(patient, practitioner_profile.user, pacemaker="")
    make_consent(patient, face, practitioner_profile.user)
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    response = practitioner.post(url, _record_post(technique="electric"))
    assert response.status_code == 200
    assert "pacemaker" in " ".join(response.context["form"].errors["technique"])
    assert not SessionRecord.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spacing_mm", "0"),
        ("spacing_mm", "ten"),
        ("zones", ["moon"]),
        ("laser_on", "2026-02-30"),
        ("notes", "x" * 10_000),
        ("notes", "\x00"),
        ("anaesthetic_minutes", "-5"),
    ],
)
def test_bad_record_input_gets_a_field_message(session, ready, practitioner, field, value):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    response = practitioner.post(url, _record_post(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SessionRecord.objects.exists()


def test_the_record_flow_over_http(session, ready, lot, practitioner):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    assert practitioner.post(url, _record_post(notes="😀 <b>fine</b>")).status_code == 302
    product_url = reverse("clinical:record_product", kwargs={"session_pk": session.pk})
    response = practitioner.post(product_url, {"lot": lot.pk, "volume_ml": "500"})
    assert response.status_code == 400
    assert practitioner.post(product_url, {"lot": lot.pk, "volume_ml": "2"}).status_code == 302
    sign_url = reverse("clinical:record_sign", kwargs={"session_pk": session.pk})
    assert practitioner.post(sign_url, {"ended_at": "not a time"}).status_code == 400
    ended = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/London")
    )
    response = practitioner.post(sign_url, {"ended_at": ended.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    page = practitioner.get(url).content.decode()
    assert "&lt;b&gt;fine&lt;/b&gt;" in page
    assert "Add addendum" in page


def test_a_record_saved_redirects_without_reading_the_page_it_does_not_draw(
    session, ready, lot, practitioner, django_assert_max_num_queries
):
    url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    with django_assert_max_num_queries(18):
        assert practitioner.post(url, _record_post()).status_code == 302
    # The lot list is still offered on the page drawn afterwards.
    assert f"Hydra Cocktail · lot {lot.lot_number}" in practitioner.get(url).content.decode()


def test_an_expired_lot_posted_to_the_record_is_refused_with_a_reason(session, ready, practitioner):
    from treatments.products.tests.factories import LotFactory

    record_url = reverse("clinical:record", kwargs={"session_pk": session.pk})
    practitioner.post(record_url, _record_post())
    expired = LotFactory(expiry_date=dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    response = practitioner.post(
        reverse("clinical:record_product", kwargs={"session_pk": session.pk}),
        {"lot": expired.pk, "volume_ml": "1"},
    )
    assert response.status_code == 400
    assert "expired" in " ".join(response.context["product_form"].errors["lot"])


# --- photos --------------------------------------------------------------------------------


def test_photos_need_photo_consent(session, patient, face, practitioner, practitioner_profile):
    make_screening(patient, practitioner_profile.user)
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    data = {"stage": "before", "zone": "cheeks", "view": "frontal"}
    response = practitioner.post(url, data | {"image": SimpleUploadedFile("a.png", png_bytes())})
    assert response.status_code == 200
    assert "consented to photos" in response.content.decode()
    assert not ClinicalPhoto.objects.exists()


def test_an_uploaded_photo_loses_its_exif(session, ready, practitioner):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    raw = png_bytes(fmt="JPEG", exif=exif.tobytes())
    assert b"PhoneMaker" in raw
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url,
        {
            "stage": "before",
            "zone": "cheeks",
            "view": "frontal",
            "image": SimpleUploadedFile("p.jpg", raw, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    stored = ClinicalPhoto.objects.get().image.read()
    assert b"PhoneMaker" not in stored
    assert not Image.open(__import__("io").BytesIO(stored)).getexif()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("a.png", b"not an image"),
        SimpleUploadedFile("a.png", b""),
        SimpleUploadedFile("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ],
)
def test_a_non_image_is_refused_with_a_message(session, ready, practitioner, upload):
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url, {"stage": "before", "zone": "cheeks", "view": "frontal", "image": upload}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ClinicalPhoto.objects.exists()


def test_an_oversized_image_is_refused(session, ready, practitioner, monkeypatch):
    from treatments.clinical.services import images

    monkeypatch.setattr(images, "PHOTO_MAX_SIDE", 100)
    url = reverse("clinical:photos", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url,
        {
            "stage": "before",
            "zone": "cheeks",
            "view": "frontal",
            "image": SimpleUploadedFile("a.png", png_bytes(size=(300, 200))),
        },
    )
    assert "pixels" in " ".join(response.context["form"].errors["image"])


# --- reactions and dashboard ----------------------------------------------------------------


def test_a_severe_reaction_is_on_the_dashboard_the_same_day(session, practitioner, therapist):
    url = reverse("clinical:reaction_create", kwargs={"session_pk": session.pk})
    onset = dt.datetime.now(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    response = practitioner.post(
        url,
        {
            "type": "allergic",
            "severity": "severe",
            "onset": onset.strftime("%Y-%m-%dT%H:%M"),
            "description": "Hives on the neck",
        },
    )
    assert response.status_code == 302
    reaction = Reaction.objects.get()
    dashboard = therapist.get(reverse("clinical:dashboard"))
    assert reaction in dashboard.context["severe_today"]
    assert "Allergic reaction" in dashboard.content.decode()


def test_a_patient_self_report_is_recorded_without_a_user(session):
    reaction = reaction_report(
        session=session,
        patient=session.patient,
        type="swelling",
        severity="moderate",
        onset=dt.datetime.now(dt.UTC),
        description="Swollen cheek",
        source="patient",
    )
    assert reaction.reported_by is None and reaction.source == "patient"
    assert AuditEntry.objects.filter(object_type="reaction", actor=None).exists()


def test_a_reaction_cannot_start_before_its_session(session, practitioner):
    url = reverse("clinical:reaction_create", kwargs={"session_pk": session.pk})
    response = practitioner.post(
        url, {"type": "pain", "severity": "mild", "onset": "2001-01-01T10:00"}
    )
    assert "onset" in response.context["form"].errors
    assert not Reaction.objects.exists()


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
    with django_assert_max_num_queries(10):
        response = practitioner.get(
            reverse("clinical:consent_overview", kwargs={"patient_pk": patient.pk})
        )
    assert response.status_code == 200
    assert response.context["signatures"] == [ready[1]]


def test_flags_for_another_patient_do_not_leak(world):
    other = PatientFactory()
    assert AuditEntry.objects.filter(patient=other).count() == 0


def test_the_front_desk_sees_flag_labels_on_the_patient_page_and_nothing_clinical(
    patient, face, practitioner_profile, front_desk, practitioner
):
    make_screening(patient, practitioner_profile.user, pregnancy="")
    url = reverse("patients:patient_detail", args=[patient.pk])
    page = front_desk.get(url).content.decode()
    assert "consent missing" in page
    assert "do not book: see practitioner" in page
    assert "pregnan" not in page.lower()
    assert reverse("clinical:patient", kwargs={"patient_pk": patient.pk}) not in page
    assert reverse("clinical:patient", kwargs={"patient_pk": patient.pk}) in (
        practitioner.get(url).content.decode()
    )


# --- manager: rules, settings, consent texts -----------------------------------------------


def test_the_manager_edits_a_rule_and_the_screening_validity(manager, practitioner):
    rule = ScreeningRule.objects.get(code="keloid")
    url = reverse("clinical:screening_rule_edit", kwargs={"pk": rule.pk})
    data = {"question": rule.question, "severity": "absolute", "scope": "all", "position": 5}
    assert practitioner.post(url, data).status_code == 403
    assert manager.post(url, data | {"active": "on"}).status_code == 302
    rule.refresh_from_db()
    assert rule.severity == "absolute"
    response = manager.post(url, data | {"scope": "technique"})
    assert "technique" in response.context["form"].errors
    settings_url = reverse("clinical:screening_rules")
    assert manager.post(settings_url, {"screening_valid_months": "99"}).status_code == 200
    assert manager.post(settings_url, {"screening_valid_months": "3"}).status_code == 302
    from treatments.clinical.models import ClinicalSettings

    assert ClinicalSettings.get().screening_valid_months == 3


def test_the_manager_adds_an_electric_device_rule(manager):
    url = reverse("clinical:screening_rule_create")
    response = manager.post(
        url,
        {
            "question": "Metal dental braces?",
            "severity": "relative",
            "scope": "technique",
            "technique": "electric",
            "position": "200",
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = ScreeningRule.objects.get(question="Metal dental braces?")
    assert (rule.code, rule.technique) == ("metal-dental-braces", "electric")


def test_the_manager_publishes_a_new_consent_version(manager, face, patient, practitioner):
    url = reverse("clinical:consent_texts")
    response = manager.post(url, {"session_type": face.pk, "title": "Face v2", "body": "New"})
    assert response.status_code == 302
    assert consent_text_current(session_type=face).version == 2
    assert manager.post(url, {"session_type": face.pk, "title": "", "body": ""}).status_code == 200


def test_the_clinical_menu_is_shown_to_clinical_roles_only(practitioner, front_desk, clinic):
    dashboard = reverse("clinical:dashboard")
    assert dashboard in practitioner.get(reverse("patients:patient_list")).content.decode()
    assert dashboard not in front_desk.get(reverse("patients:patient_list")).content.decode()
