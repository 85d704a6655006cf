"""Today's lists: the practitioner's (with readiness badges) and the desk's (without clinical
detail). Reads only; a fixed number of queries whatever the number of sessions.

Readiness, per session: screening valid or due and consent valid or missing (the same derived
flags the desk sees, patients_flags), the clinical record not started / draft / signed, photos
taken, the patient's reactions still open, the patient's confirmation by link, a session the
desk completed without a signed record (Session.record_flagged_at), and the health questionnaire
the patient answered at home, waiting for review (an absolute contraindication in it in red).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet

from treatments.clinic_time import day_bounds
from treatments.models import Session
from treatments.selectors import clinic_zone

from .models import ClinicalPhoto, Questionnaire, Reaction
from .selectors import (
    FLAG_CONSENT_MISSING,
    FLAG_SCREENING_DUE,
    FLAG_SEE_PRACTITIONER,
    patients_flags,
)

RECORD_NOT_STARTED, RECORD_DRAFT, RECORD_SIGNED = "not started", "draft", "signed"


@dataclass(frozen=True)
class TodayRow:
    session: Session
    confirmed: bool  # the patient confirmed by the email's link
    flags: list[str] = field(default_factory=list)  # the desk's labels, no clinical detail
    screening_due: bool = False
    consent_missing: bool = False
    record: str = RECORD_NOT_STARTED
    photos: int = 0
    reactions_open: int = 0
    record_flagged: bool = False  # completed at the desk with no signed record
    # The patient answered the health questionnaire at home; not yet confirmed by a screening.
    questionnaire_answered: bool = False
    # ... and reported an absolute contraindication in it (the record is blocked until then).
    reported_absolute: bool = False


def _record_state(session: Session) -> str:
    record = getattr(session, "clinical_record", None)
    if record is None:
        return RECORD_NOT_STARTED
    return RECORD_SIGNED if record.is_signed else RECORD_DRAFT


def _sessions_on(day: date) -> QuerySet[Session]:
    starts, ends = day_bounds(day, clinic_zone())
    return (
        Session.objects.filter(starts_at__gte=starts, starts_at__lt=ends)
        .exclude(status=Session.Status.CANCELLED)
        .select_related(
            "patient", "session_type", "practitioner__user", "room", "patient_confirmation"
        )
        .order_by("starts_at", "practitioner__user__last_name", "id")
    )


def _confirmed(session: Session) -> bool:
    return getattr(session, "patient_confirmation", None) is not None


def today_desk(*, day: date, now: datetime) -> list[TodayRow]:
    """Every practitioner's sessions of the day, in time order: status, confirmation and the
    desk's flags (labels only). Six queries."""
    sessions = list(_sessions_on(day))
    flags = patients_flags(patients={s.patient_id for s in sessions}, now=now)
    return [
        TodayRow(session=s, confirmed=_confirmed(s), flags=flags.get(s.patient_id, []))
        for s in sessions
    ]


def today_clinical(
    *, day: date, now: datetime, practitioner_id: int | None = None
) -> list[TodayRow]:
    """The day's sessions (one practitioner's, or everyone's), with readiness badges.
    Nine queries."""
    qs = _sessions_on(day).select_related("clinical_record")
    if practitioner_id is not None:
        qs = qs.filter(practitioner_id=practitioner_id)
    sessions = list(qs)
    session_ids = [s.pk for s in sessions]
    patient_ids = {s.patient_id for s in sessions}
    flags = patients_flags(patients=patient_ids, now=now)
    photos = dict(
        ClinicalPhoto.objects.filter(session_id__in=session_ids)
        .values("session_id")
        .annotate(n=Count("id"))
        .values_list("session_id", "n")
    )
    answered = set(
        Questionnaire.objects.filter(
            patient_id__in=patient_ids, status=Questionnaire.Status.ANSWERED
        ).values_list("patient_id", flat=True)
    )
    reactions = Counter(
        Reaction.objects.filter(patient_id__in=patient_ids, resolved_on__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    rows = []
    for s in sessions:
        patient_flags = flags.get(s.patient_id, [])
        record = _record_state(s)
        rows.append(
            TodayRow(
                session=s,
                confirmed=_confirmed(s),
                flags=patient_flags,
                screening_due=FLAG_SCREENING_DUE in patient_flags,
                consent_missing=FLAG_CONSENT_MISSING in patient_flags,
                record=record,
                photos=photos.get(s.pk, 0),
                reactions_open=reactions[s.patient_id],
                record_flagged=s.record_flagged_at is not None and record != RECORD_SIGNED,
                questionnaire_answered=s.patient_id in answered,
                reported_absolute=FLAG_SEE_PRACTITIONER in patient_flags,
            )
        )
    return rows


def records_flagged(*, practitioner_id: int | None = None) -> list[Session]:
    """Sessions the desk completed without a signed record, still unsigned, oldest first. One
    query."""
    qs = Session.objects.filter(record_flagged_at__isnull=False).filter(
        Q(clinical_record__isnull=True) | Q(clinical_record__signed_at__isnull=True)
    )
    if practitioner_id is not None:
        qs = qs.filter(practitioner_id=practitioner_id)
    return list(qs.select_related("patient", "session_type").order_by("starts_at", "id"))
