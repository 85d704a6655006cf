"""Autosaved drafts and the record page's parts answered to htmx."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from treatments.clinical.errors import RecordLocked
from treatments.clinical.models import RecordDraft, SessionRecord
from treatments.clinical.services.drafts import record_draft_save
from treatments.clinical.services.records import record_save
from treatments.models import Session
from treatments.products.models import LotUsage
from treatments.selectors import clinic_zone

from .factories import make_consent, make_screening, record_data
from .test_record_views import _record_post

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _ended() -> dict:
    ended = timezone.localtime(timezone.now() - dt.timedelta(minutes=1), clinic_zone())
    return {"ended_at": ended.strftime("%Y-%m-%dT%H:%M")}


@pytest.fixture
def saved(session, patient, face, practitioner_profile):
    user = practitioner_profile.user
    make_screening(patient, user)
    make_consent(patient, face, user)
    return record_save(session=session, by=user, data=record_data())


def test_a_draft_keeps_what_was_typed_without_any_check_and_is_not_the_record(
    practitioner, session
):
    url = reverse("clinical:record_draft", args=[session.pk])
    # Nothing valid yet (no technique, no screening on file): kept all the same.
    response = practitioner.post(url, {"notes": "Half a sentence", "zones": ["cheeks", "chin"]})
    assert response.status_code == 200
    assert "Draft kept" in response.content.decode()
    draft = RecordDraft.objects.get(session=session)
    assert draft.data["notes"] == "Half a sentence"
    assert draft.data["zones"] == ["cheeks", "chin"]
    assert draft.data["technique"] == ""
    assert not SessionRecord.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE).count() == 1
    practitioner.post(url, {"notes": "Half a sentence, finished."})
    assert RecordDraft.objects.get().data["notes"] == "Half a sentence, finished."


def test_the_record_page_shows_the_draft_while_it_is_newer_than_the_record(
    practitioner, session, saved
):
    page_url = reverse("clinical:record", args=[session.pk])
    practitioner.post(reverse("clinical:record_draft", args=[session.pk]), {"notes": "Typed"})
    assert practitioner.get(page_url).context["form"].initial["notes"] == "Typed"
    practitioner.post(page_url, _record_post(notes="Saved for good"), **HTMX)
    assert practitioner.get(page_url).context["form"].initial["notes"] == "Saved for good"


def test_no_draft_on_a_signed_record_another_s_record_or_a_cancelled_session(
    session, saved, practitioner_profile, therapist_profile
):
    with pytest.raises(RecordLocked, match="someone else"):
        record_draft_save(session=session, by=therapist_profile.user, data={"notes": "x"})
    SessionRecord.objects.filter(pk=saved.pk).update(
        signed_at=session.starts_at, signed_by=practitioner_profile.user
    )
    with pytest.raises(RecordLocked, match="signed"):
        record_draft_save(session=session, by=practitioner_profile.user, data={"notes": "x"})
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    session.refresh_from_db()
    with pytest.raises(Exception, match="cancelled"):
        record_draft_save(session=session, by=practitioner_profile.user, data={"notes": "x"})
    assert not RecordDraft.objects.exists()


def test_saving_the_record_through_htmx_answers_the_form_part_alone(practitioner, session, saved):
    url = reverse("clinical:record", args=[session.pk])
    ok = practitioner.post(url, _record_post(notes="All fine"), **HTMX)
    assert ok.status_code == 200
    assert "recordSaved" in ok["HX-Trigger"]
    html = ok.content.decode()
    assert 'id="record-part"' in html and "<html" not in html
    refused = practitioner.post(url, _record_post(technique=""), **HTMX)
    assert refused.status_code == 200
    assert "HX-Trigger" not in refused
    assert 'id="record-part"' in refused.content.decode()
    assert refused.context["form"].errors["technique"]
    assert SessionRecord.objects.get().notes == "All fine"


def test_products_are_added_and_removed_in_place_through_htmx(practitioner, session, saved, lot):
    url = reverse("clinical:record_product", args=[session.pk])
    added = practitioner.post(url, {"lot": lot.pk, "volume_ml": "1.5"}, **HTMX)
    html = added.content.decode()
    assert 'id="record-side"' in html and "<html" not in html
    assert "Product recorded." in html and "1.50 ml" in html
    usage = LotUsage.objects.get()
    refused = practitioner.post(url, {"lot": lot.pk, "volume_ml": "-1"}, **HTMX)
    assert refused.status_code == 200 and 'id="record-side"' in refused.content.decode()
    removed = practitioner.post(
        reverse("clinical:record_product_delete", args=[session.pk, usage.pk]), **HTMX
    )
    assert "Product line removed" in removed.content.decode()
    assert not LotUsage.objects.exists()


def test_signing_waits_for_autosaved_edits_to_be_saved_in_the_record(
    practitioner, session, saved, lot, practitioner_profile
):
    user = practitioner_profile.user
    practitioner.post(
        reverse("clinical:record_product", args=[session.pk]), {"lot": lot.pk, "volume_ml": "1"}
    )
    sign_url = reverse("clinical:record_sign", args=[session.pk])
    page_url = reverse("clinical:record", args=[session.pk])
    # The same values as the record (a late autosave after "Save record") do not hold it up...
    same = _record_post(notes="", zones=["cheeks", "forehead"])
    record_draft_save(session=session, by=user, data={**same, "spacing_mm": "10"})
    # ...new notes do.
    record_draft_save(session=session, by=user, data={**same, "notes": "New notes"})
    refused = practitioner.post(sign_url, _ended())
    assert "not in the record yet" in refused.content.decode()
    assert not SessionRecord.objects.get().is_signed
    practitioner.post(page_url, _record_post(notes="New notes"))
    practitioner.post(sign_url, _ended())
    assert SessionRecord.objects.get().is_signed


def test_a_late_autosave_of_the_saved_values_does_not_hold_up_signing(
    practitioner, session, saved, lot, practitioner_profile
):
    practitioner.post(
        reverse("clinical:record_product", args=[session.pk]), {"lot": lot.pk, "volume_ml": "1"}
    )
    record_draft_save(
        session=session,
        by=practitioner_profile.user,
        data=_record_post(notes="", zones=["cheeks", "forehead"]),
    )
    practitioner.post(reverse("clinical:record_sign", args=[session.pk]), _ended())
    assert SessionRecord.objects.get().is_signed
