import pytest
from django.core.exceptions import PermissionDenied

from mesoclinic.audit.models import AuditEntry
from patients.tests.factories import PatientFactory
from treatments.clinical.errors import ClinicalError
from treatments.clinical.models import ConsentSignature, ConsentText
from treatments.clinical.selectors import (
    consent_signature_current,
    consent_text_current,
    photo_consent_given,
    photo_consent_state,
)
from treatments.clinical.services.consent import (
    consent_sign,
    consent_text_publish,
    photo_consent_set,
)

from .factories import signature_data_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def text(face, manager_user):
    return consent_text_publish(
        session_type=face, title="Face consent", body="I consent to face.", by=manager_user
    )


def test_each_seeded_session_type_has_a_first_consent_text(face):
    assert ConsentText.objects.filter(session_type=face, version=1).exists()


def test_publishing_makes_a_new_version(text, face, manager_user):
    newer = consent_text_publish(session_type=face, title="Face", body="v3", by=manager_user)
    assert newer.version == text.version + 1
    assert consent_text_current(session_type=face) == newer


def test_a_signature_keeps_the_exact_text_version_name_and_drawing(
    text, face, practitioner_profile
):
    patient = PatientFactory()
    sig = consent_sign(
        patient=patient,
        text=text,
        typed_name="  Jane   Doe ",
        signature_data_url=signature_data_url(),
        by=practitioner_profile.user,
    )
    sig.refresh_from_db()
    assert sig.text_snapshot == "I consent to face."
    assert sig.version == text.version
    assert sig.typed_name == "Jane Doe"
    assert sig.witnessed_by == practitioner_profile.user
    assert sig.signature.name.startswith("clinical/signatures/")
    assert sig.signature.read().startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(patient=patient, action="sign").count() == 1


def test_a_signed_consent_cannot_change(text, practitioner_profile):
    sig = consent_sign(
        patient=PatientFactory(),
        text=text,
        typed_name="Jane Doe",
        signature_data_url=signature_data_url(),
        by=practitioner_profile.user,
    )
    sig.typed_name = "Someone Else"
    with pytest.raises(PermissionDenied):
        sig.save()
    text.body = "rewritten"
    with pytest.raises(PermissionDenied):
        text.save()


def test_a_new_version_asks_for_re_consent(text, face, manager_user, practitioner_profile):
    patient = PatientFactory()
    consent_sign(
        patient=patient,
        text=text,
        typed_name="Jane Doe",
        signature_data_url=signature_data_url(),
        by=practitioner_profile.user,
    )
    assert consent_signature_current(patient=patient, session_type=face) is not None
    consent_text_publish(session_type=face, title="Face", body="new risks", by=manager_user)
    assert consent_signature_current(patient=patient, session_type=face) is None


def test_it_refuses_to_sign_an_old_version(text, face, manager_user, practitioner_profile):
    consent_text_publish(session_type=face, title="Face", body="new", by=manager_user)
    with pytest.raises(ClinicalError, match="newer version"):
        consent_sign(
            patient=PatientFactory(),
            text=text,
            typed_name="Jane Doe",
            signature_data_url=signature_data_url(),
            by=practitioner_profile.user,
        )
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize(
    ("name", "data_url", "field"),
    [
        ("", None, "typed_name"),
        ("x" * 201, None, "typed_name"),
        ("Jane", "", "signature"),
        ("Jane", "blank", "signature"),
        ("Jane", "data:image/png;base64,!!!notbase64", "signature"),
        ("Jane", "data:image/png;base64,aGVsbG8=", "signature"),
        ("Jane", "javascript:alert(1)", "signature"),
    ],
)
def test_it_refuses_a_missing_name_or_signature(text, practitioner_profile, name, data_url, field):
    if data_url is None:
        data_url = signature_data_url()
    elif data_url == "blank":
        data_url = signature_data_url(blank=True)
    with pytest.raises(ClinicalError) as err:
        consent_sign(
            patient=PatientFactory(),
            text=text,
            typed_name=name,
            signature_data_url=data_url,
            by=practitioner_profile.user,
        )
    assert err.value.field == field
    assert not ConsentSignature.objects.exists()


def test_photo_consent_is_per_purpose_and_can_be_withdrawn(practitioner_profile):
    patient = PatientFactory()
    user = practitioner_profile.user
    photo_consent_set(patient=patient, purpose="clinical", given=True, by=user)
    photo_consent_set(patient=patient, purpose="marketing", given=True, by=user)
    assert photo_consent_given(patient=patient)
    photo_consent_set(patient=patient, purpose="clinical", given=False, by=user)
    state = photo_consent_state(patient=patient)
    assert state["clinical"].given is False
    assert state["marketing"].given is True
    assert state["teaching"] is None
    assert not photo_consent_given(patient=patient)
    assert AuditEntry.objects.filter(patient=patient, action="withdraw").count() == 1
