"""Reads for the clinical app: current screening and consent, front-desk flags, timelines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from mesoclinic.access import Role
from patients.models import Patient
from treatments.clinic_time import day_bounds
from treatments.models import Session, SessionType, StaffProfile
from treatments.products.models import LotUsage
from treatments.selectors import availability_for, clinic_zone

from .models import (
    Addendum,
    ClinicalPhoto,
    ConsentSignature,
    ConsentText,
    Consultation,
    PhotoConsent,
    Questionnaire,
    Reaction,
    RecordDraft,
    ReportedAnswer,
    Screening,
    ScreeningAnswer,
    ScreeningRule,
    SessionRecord,
    Severity,
)

FLAG_SCREENING_DUE = "screening due"
FLAG_CONSENT_MISSING = "consent missing"
FLAG_DO_NOT_BOOK = "do not book: see practitioner"
# The patient reported an absolute contraindication at home that no practitioner has reviewed.
FLAG_SEE_PRACTITIONER = "see practitioner"


def _answers_prefetch() -> Prefetch:
    return Prefetch("answers", queryset=ScreeningAnswer.objects.select_related("rule"))


def screening_latest(*, patient_id: int) -> Screening | None:
    """The patient's latest screening (valid or not), without its answers. One query."""
    return Screening.objects.filter(patient_id=patient_id).order_by("-taken_at", "-id").first()


def screening_current(*, patient: Patient) -> Screening | None:
    """The latest screening (valid or not), with its answers and rules."""
    return (
        Screening.objects.filter(patient=patient)
        .select_related("taken_by")
        .prefetch_related(_answers_prefetch())
        .first()
    )


def consent_text_current(*, session_type: SessionType | int) -> ConsentText | None:
    return ConsentText.objects.filter(session_type=session_type).order_by("-version").first()


def consent_texts_current() -> list[ConsentText]:
    """The newest version for every session type that has one."""
    texts = ConsentText.objects.select_related("session_type").order_by(
        "session_type__name", "session_type_id", "-version"
    )
    seen: set[int] = set()
    current = []
    for text in texts:
        if text.session_type_id not in seen:
            seen.add(text.session_type_id)
            current.append(text)
    return current


def consent_signature_current(
    *, patient: Patient, session_type: SessionType | int
) -> ConsentSignature | None:
    """The patient's signature of the *current* version for this kind of session, if any."""
    text = consent_text_current(session_type=session_type)
    if text is None:
        return None
    return ConsentSignature.objects.filter(patient=patient, text=text).first()


def consent_signatures(*, patient: Patient) -> list[ConsentSignature]:
    """Every treatment consent the patient signed, newest first."""
    return list(
        ConsentSignature.objects.filter(patient=patient).select_related(
            "session_type", "witnessed_by"
        )
    )


def photo_consent_state(*, patient: Patient) -> dict[str, PhotoConsent | None]:
    """Latest decision per purpose (None: never asked)."""
    state: dict[str, PhotoConsent | None] = dict.fromkeys(PhotoConsent.Purpose.values)
    for row in PhotoConsent.objects.filter(patient=patient).select_related("recorded_by"):
        if state[row.purpose] is None:
            state[row.purpose] = row
    return state


def photo_consent_given(*, patient: Patient, purpose: str = PhotoConsent.Purpose.CLINICAL) -> bool:
    latest = PhotoConsent.objects.filter(patient=patient, purpose=purpose).first()
    return bool(latest and latest.given)


def patients_flags(
    *, patients: Iterable[Patient | int], now: datetime | None = None
) -> dict[int, list[str]]:
    """Short labels for the front desk, for many patients in a fixed number of queries (6).

    Labels only: the desk learns *that* something needs a practitioner, never what.
    """
    ids = [p if isinstance(p, int) else p.pk for p in patients]
    now = now or timezone.now()
    flags: dict[int, list[str]] = {pid: [] for pid in ids}
    if not ids:
        return flags

    # Latest screening per patient (PostgreSQL: DISTINCT ON; elsewhere first row wins below).
    latest: dict[int, Screening] = {}
    screenings = Screening.objects.filter(patient_id__in=ids).order_by(
        "patient_id", "-taken_at", "-id"
    )
    if connection.vendor == "postgresql":
        screenings = screenings.distinct("patient_id")
    for row in screenings.only("id", "patient_id", "taken_at", "valid_until"):
        latest.setdefault(row.patient_id, row)

    # The hold, not the screening: a practitioner may have lifted it (clinical/services/holds.py).
    held = set(Patient.objects.filter(pk__in=ids, booking_hold=True).values_list("pk", flat=True))
    reported = set(_reported_absolute(ids))
    current_texts = {text.session_type_id: text.pk for text in consent_texts_current()}
    signed = set(
        ConsentSignature.objects.filter(patient_id__in=ids).values_list("patient_id", "text_id")
    )
    upcoming: dict[int, set[int]] = {}
    for patient_id, type_id in Session.objects.filter(
        patient_id__in=ids,
        status__in=(Session.Status.BOOKED, Session.Status.ARRIVED),
        ends_at__gte=now,
    ).values_list("patient_id", "session_type_id"):
        upcoming.setdefault(patient_id, set()).add(type_id)

    for pid in ids:
        screening = latest.get(pid)
        if screening is None or not screening.is_valid_at(now):
            flags[pid].append(FLAG_SCREENING_DUE)
        types = upcoming.get(pid)
        if types:
            missing = any(
                (pid, current_texts[t]) not in signed if t in current_texts else True for t in types
            )
        else:
            missing = not any((pid, text_id) in signed for text_id in current_texts.values())
        if missing:
            flags[pid].append(FLAG_CONSENT_MISSING)
        if pid in held:
            flags[pid].append(FLAG_DO_NOT_BOOK)
        elif pid in reported:
            flags[pid].append(FLAG_SEE_PRACTITIONER)
    return flags


def reported_absolute_answers(*, patient_ids: Iterable[int]) -> QuerySet[ReportedAnswer]:
    """The patients' unreviewed "yes" answers to an absolute rule in their questionnaire."""
    return ReportedAnswer.objects.filter(
        questionnaire__patient_id__in=patient_ids,
        questionnaire__status=Questionnaire.Status.ANSWERED,
        answer=True,
        rule__severity=ScreeningRule.Severity.ABSOLUTE,
    )


def _reported_absolute(patient_ids: list[int]) -> QuerySet:
    """Patients with an unreviewed "yes" to an absolute rule in their questionnaire."""
    return (
        reported_absolute_answers(patient_ids=patient_ids)
        .values_list("questionnaire__patient_id", flat=True)
        .distinct()
    )


def questionnaire_open(*, patient_id: int) -> Questionnaire | None:
    """The patient's questionnaire still waiting for their answers, if any."""
    return Questionnaire.objects.filter(
        patient_id=patient_id, status=Questionnaire.Status.OPEN
    ).first()


def questionnaire_answered(*, patient: Patient) -> Questionnaire | None:
    """The patient's answers waiting for a practitioner's review, with the rules answered."""
    return (
        Questionnaire.objects.filter(patient=patient, status=Questionnaire.Status.ANSWERED)
        .prefetch_related(
            Prefetch("answers", queryset=ReportedAnswer.objects.select_related("rule"))
        )
        .first()
    )


def questionnaires_to_review() -> list[Questionnaire]:
    """Questionnaires answered at home and not yet confirmed by a screening, those reporting an
    absolute contraindication first (`reported_absolute`), then by their next session. One
    query."""
    absolute = ReportedAnswer.objects.filter(
        questionnaire=OuterRef("pk"), answer=True, rule__severity=ScreeningRule.Severity.ABSOLUTE
    )
    return list(
        Questionnaire.objects.filter(status=Questionnaire.Status.ANSWERED)
        .annotate(reported_absolute=Exists(absolute))
        .select_related("patient", "session__practitioner__user")
        .order_by("-reported_absolute", F("session__starts_at").asc(nulls_last=True), "id")
    )


def questionnaire_rules() -> list[ScreeningRule]:
    """The questions a questionnaire asks: the clinic's active screening rules, in order."""
    return list(ScreeningRule.objects.filter(active=True))


def consent_texts_to_sign(*, patient: Patient, now: datetime | None = None) -> list[ConsentText]:
    """The current consent texts for the kinds of session the patient has booked, which they
    will be asked to sign at the clinic."""
    now = now or timezone.now()
    type_ids = set(
        Session.objects.filter(
            patient=patient, status=Session.Status.BOOKED, starts_at__gt=now
        ).values_list("session_type_id", flat=True)
    )
    return [text for text in consent_texts_current() if text.session_type_id in type_ids]


def patient_flags(*, patient: Patient, now: datetime | None = None) -> list[str]:
    return patients_flags(patients=[patient], now=now)[patient.pk]


def _session_queryset() -> QuerySet[Session]:
    return Session.objects.select_related(
        "session_type",
        "practitioner__user",
        "room",
        "clinical_record__author",
        "clinical_record__signed_by",
    ).prefetch_related(
        Prefetch("lot_usages", queryset=LotUsage.objects.select_related("lot__product")),
        Prefetch("clinical_photos", queryset=ClinicalPhoto.objects.order_by("taken_at", "id")),
        Prefetch("reactions", queryset=Reaction.objects.order_by("onset", "id")),
        Prefetch("clinical_record__addenda", queryset=Addendum.objects.select_related("author")),
    )


def patient_timeline(*, patient: Patient) -> dict:
    """Everything clinical about a patient, newest first, in a fixed number of queries."""
    consultations = list(
        Consultation.objects.filter(patient=patient)
        .select_related("practitioner")
        .prefetch_related(
            "plan_products",
            Prefetch("addenda", queryset=Addendum.objects.select_related("author")),
        )
    )
    screenings = list(
        Screening.objects.filter(patient=patient)
        .select_related("taken_by")
        .prefetch_related(_answers_prefetch())
    )
    signatures = consent_signatures(patient=patient)
    sessions = list(_session_queryset().filter(patient=patient).order_by("-starts_at", "-id"))
    return {
        "consultations": consultations,
        "screenings": screenings,
        "current_screening": screenings[0] if screenings else None,
        "signatures": signatures,
        "photo_consent": photo_consent_state(patient=patient),
        "sessions": sessions,
    }


def session_for_record(*, pk: int) -> Session:
    return _session_queryset().select_related("patient").get(pk=pk)


def photos_compare(*, patient: Patient, zone: str | None = None) -> list[dict]:
    """Per area and view: the first and the latest photo, for a side-by-side comparison."""
    photos = ClinicalPhoto.objects.filter(patient=patient).select_related("session")
    if zone:
        photos = photos.filter(zone=zone)
    pairs: dict[tuple[str, str], dict] = {}
    for photo in photos.order_by("taken_at", "id"):
        pair = pairs.setdefault(
            (photo.zone, photo.view),
            {"zone": photo.get_zone_display(), "view": photo.get_view_display()},
        )
        pair.setdefault("first", photo)
        pair["latest"] = photo
        pair["count"] = pair.get("count", 0) + 1
    return list(pairs.values())


def practitioners_to_alert(*, now: datetime | None = None) -> tuple[list[StaffProfile], bool]:
    """Who a severe reaction is emailed to, and whether they are the ones on duty today.

    On duty = bookable time on today's date in the clinic's zone (weekly hours within opening
    hours, plus extra hours, minus leave: `availability_for`), at any hour of the day, so that
    someone starting at 14:00 hears of a report made at 09:00. If no practitioner is on duty
    (a Sunday, everyone on leave), every active practitioner is alerted instead (returned with
    False): a severe reaction must reach someone the same day (DOMAIN.md, "Side effects").
    """
    now = now or timezone.now()
    zone = clinic_zone()
    practitioners = list(
        StaffProfile.objects.filter(user__is_active=True, user__groups__name=Role.PRACTITIONER)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    today = timezone.localdate(now, zone)
    hours = availability_for(
        staff_ids=[p.pk for p in practitioners], first_day=today, days=1, zone=zone
    )
    on_duty = [p for p in practitioners if hours.get((p.pk, today))]
    if on_duty:
        return on_duty, True
    return practitioners, False


def dashboard_reactions(*, now: datetime | None = None) -> dict:
    """Severe reactions not yet acknowledged: reported today (clinic day), and earlier ones
    still unresolved; plus every reaction of the last 7 days."""
    now = now or timezone.now()
    # The clinic's day, not the active time zone's (UTC outside a request).
    zone = clinic_zone()
    start_of_day, _ = day_bounds(timezone.localdate(now, zone), zone)
    base = Reaction.objects.select_related(
        "patient", "session__session_type", "reported_by"
    ).order_by("-recorded_at", "-id")
    # A severe reaction leaves the dashboard's alert cards once a practitioner acknowledges it.
    waiting = base.filter(acknowledged_at__isnull=True)
    return {
        "severe_today": list(
            waiting.filter(severity=Severity.SEVERE, recorded_at__gte=start_of_day)
        ),
        "severe_open": list(
            waiting.filter(
                severity=Severity.SEVERE, resolved_on__isnull=True, recorded_at__lt=start_of_day
            )
        ),
        "recent": list(base.filter(recorded_at__gte=start_of_day - timedelta(days=7))[:50]),
    }


def record_draft_current(
    *, session: Session, by: Any, record: SessionRecord | None
) -> RecordDraft | None:
    """`by`'s autosaved draft of the session record, if newer than the saved record."""
    draft = RecordDraft.objects.filter(session=session, author_id=by.pk).first()
    if draft is None or (record is not None and draft.saved_at <= record.updated_at):
        return None
    return draft
