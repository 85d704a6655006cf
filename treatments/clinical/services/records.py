"""The session's clinical record, and the clinic's safety rules that guard it.

Every rule refuses with a message that names the rule and the way out, and nothing is saved:
the checks run before any write, and the writes share one transaction. The rules (issue 3, §6):
only registered, active products from unexpired lots (checked by lot_use); an aesthetic therapist
may not record deep technique or a medical-only session type (seed: "deeper work needs a medical
practitioner"); no absolute contraindication; a written reason for each relative one; a valid,
re-confirmed screening; the current treatment consent; no electric device with a pacemaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from treatments.models import Session, StaffProfile
from treatments.products.models import Lot, LotUsage
from treatments.products.services import lot_usage_reverse, lot_use
from treatments.selectors import clinic_zone
from treatments.services.booking import session_complete

from ..errors import ClinicalError, RecordLocked, SafetyRefusal
from ..models import (
    Addendum,
    ConsentSignature,
    Consultation,
    Depth,
    Questionnaire,
    ReportedAnswer,
    Screening,
    SessionRecord,
    Technique,
    Zone,
)
from ..selectors import consent_signature_current, consent_text_current, screening_current
from .authority import clinician_required
from .questionnaire import reported_contraindication
from .screening import Finding, screening_findings

PACEMAKER_RULE = "pacemaker"


@dataclass
class RecordData:
    technique: str
    depth: str
    zones: list[str]
    spacing_mm: int = 10
    screening_reconfirmed: bool = False
    area_cleansed: bool = False
    photos_taken: bool = False
    anaesthetic_used: bool = False
    anaesthetic_product: str = ""
    anaesthetic_minutes: int | None = None
    laser_on: date | None = None
    microneedling_on: date | None = None
    peel_on: date | None = None
    reactions_none: bool = False
    immediate_reactions: str = ""
    risk_reason: str = ""
    notes: str = ""
    # The fields the record stores verbatim.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "technique",
        "depth",
        "zones",
        "spacing_mm",
        "screening_reconfirmed",
        "area_cleansed",
        "photos_taken",
        "anaesthetic_used",
        "anaesthetic_product",
        "anaesthetic_minutes",
        "laser_on",
        "microneedling_on",
        "peel_on",
        "reactions_none",
        "immediate_reactions",
        "risk_reason",
        "notes",
    )

    @classmethod
    def from_record(cls, record: SessionRecord) -> RecordData:
        data = cls(technique=record.technique, depth=record.depth, zones=list(record.zones))
        for name in data.FIELDS:
            setattr(data, name, getattr(record, name))
        return data


@dataclass(frozen=True)
class Readiness:
    """What the pre-session checklist found; the record page shows it before anything is typed."""

    screening: Screening | None
    consent: ConsentSignature | None
    findings: list[Finding]
    # The patient's health questionnaire answered at home, not yet confirmed by a screening,
    # and an absolute contraindication reported in it (blocks the record until then).
    questionnaire_answered: bool = False
    reported_absolute: ReportedAnswer | None = None


def _check_input(data: RecordData) -> None:
    if data.technique not in Technique.values:
        raise ClinicalError("Choose the technique.", field="technique")
    if data.depth not in Depth.values:
        raise ClinicalError("Choose the depth.", field="depth")
    if not data.zones:
        raise ClinicalError("Choose at least one treated area.", field="zones")
    if any(zone not in Zone.values for zone in data.zones):
        raise ClinicalError("Choose areas from the list.", field="zones")
    if not 1 <= int(data.spacing_mm) <= 50:
        raise ClinicalError("Spacing is between 1 and 50 mm.", field="spacing_mm")
    if data.anaesthetic_used and not data.anaesthetic_product.strip():
        raise ClinicalError("Name the topical anaesthetic used.", field="anaesthetic_product")
    # The clinic's day, not the active time zone's: services also run outside a request.
    today = timezone.localdate(timezone=clinic_zone())
    for name in ("laser_on", "microneedling_on", "peel_on"):
        when = getattr(data, name)
        if when is not None and when > today:
            raise ClinicalError("A combined treatment cannot be in the future.", field=name)
    if data.reactions_none and data.immediate_reactions.strip():
        raise ClinicalError(
            'Either tick "no immediate reaction" or describe the reaction, not both.',
            field="immediate_reactions",
        )


def _check_practitioner(*, session: Session, profile: StaffProfile, depth: str) -> None:
    if profile.is_medical:
        return
    who = profile.get_qualification_display().lower()
    if depth == Depth.DEEP:
        raise SafetyRefusal(
            f"Deep / point-by-point injection needs a medical practitioner (doctor, nurse or "
            f"prescriber); you are recorded as {who}. Record a superficial depth or ask a "
            "medical colleague to treat.",
            field="depth",
        )
    if session.session_type.medical_only:
        raise SafetyRefusal(
            f"{session.session_type} is a medical-only session type; you are recorded as {who}. "
            "A doctor, nurse or prescriber must record it.",
            field="technique",
        )


def _check_screening(*, session: Session, reconfirmed: bool, now: datetime) -> Screening:
    screening = screening_current(patient=session.patient)
    if screening is None:
        raise SafetyRefusal(
            "No screening (medical history) on file for this patient. Record one first."
        )
    if not screening.is_valid_at(now):
        raise SafetyRefusal(
            f"The screening of {timezone.localtime(screening.taken_at):%d %b %Y} expired on "
            f"{timezone.localtime(screening.valid_until):%d %b %Y}. Take a new screening before "
            "treating."
        )
    if not reconfirmed:
        raise SafetyRefusal(
            f"Ask the patient whether anything has changed since the screening of "
            f"{timezone.localtime(screening.taken_at):%d %b %Y} and tick the confirmation. If "
            "something changed, record a new screening first.",
            field="screening_reconfirmed",
        )
    return screening


def _check_consent(session: Session) -> ConsentSignature:
    signature = consent_signature_current(
        patient=session.patient, session_type=session.session_type_id
    )
    if signature is not None:
        return signature
    text = consent_text_current(session_type=session.session_type_id)
    if text is None:
        raise SafetyRefusal(
            f"There is no consent text for {session.session_type}; the clinic manager must "
            "publish one before this treatment."
        )
    if ConsentSignature.objects.filter(
        patient=session.patient, session_type_id=session.session_type_id
    ).exists():
        raise SafetyRefusal(
            f"The consent for {session.session_type} changed (now version {text.version}); "
            "the patient must sign the new version first."
        )
    raise SafetyRefusal(
        f"The patient has not signed consent for {session.session_type}. Take their consent first."
    )


def _check_contraindications(
    *, screening: Screening, technique: str, ingredients: list[str], risk_reason: str
) -> list[Finding]:
    findings = screening_findings(screening=screening, technique=technique, ingredients=ingredients)
    # Hard rule whatever the clinic sets the rule's severity to: current from the device can
    # interfere with a pacemaker or implanted electronics.
    if technique == Technique.ELECTRIC and any(
        a.answer and a.rule.code == PACEMAKER_RULE for a in screening.answers.all()
    ):
        raise SafetyRefusal(
            "A needle-free electric-current device cannot be used: the patient declared a "
            "pacemaker or implanted electronic device. Choose a needle technique.",
            field="technique",
        )
    absolute = [f for f in findings if f.is_absolute]
    if absolute:
        found = absolute[0]
        detail = f" ({found.detail})" if found.detail else ""
        raise SafetyRefusal(
            f"Absolute contraindication: the patient answered yes to “{found.question}”{detail}. "
            "Treatment cannot go ahead until it is resolved and a new screening is recorded."
        )
    relative = [f for f in findings if f.is_relative]
    if relative and not risk_reason.strip():
        questions = "; ".join(f"“{f.question}”" for f in relative)
        raise SafetyRefusal(
            f"Relative contraindication: {questions}. Write why you accept the risk.",
            field="risk_reason",
        )
    return findings


def _session_ingredients(session: Session, extra: list[str] | None = None) -> list[str]:
    names = list(extra or [])
    usages = LotUsage.objects.filter(session=session).select_related("lot__product")
    for usage in usages.prefetch_related("lot__product__ingredients"):
        names.extend(usage.lot.product.ingredient_names())
    return names


def _check_editable(record: SessionRecord, by: User) -> None:
    if record.is_signed:
        raise RecordLocked(
            f"This record was signed on {timezone.localtime(record.signed_at):%d %b %Y %H:%M} "
            "and cannot change. Add an addendum instead."
        )
    if record.author_id != by.pk:
        raise RecordLocked(
            f"This record is being written by {record.author.get_full_name() or record.author}; "
            "only they can change it."
        )


def _check_session(session: Session) -> None:
    if session.status not in Session.ACTIVE:
        raise ClinicalError(
            f"This session is {session.get_status_display().lower()}; there is nothing to record."
        )


def record_readiness(*, session: Session) -> Readiness:
    screening = screening_current(patient=session.patient)
    consent = consent_signature_current(
        patient=session.patient, session_type=session.session_type_id
    )
    findings = screening_findings(screening=screening) if screening else []
    return Readiness(
        screening=screening,
        consent=consent,
        findings=findings,
        questionnaire_answered=Questionnaire.objects.filter(
            patient_id=session.patient_id, status=Questionnaire.Status.ANSWERED
        ).exists(),
        reported_absolute=reported_contraindication(patient_id=session.patient_id),
    )


def _check_reported(*, session: Session, technique: str, ingredients: list[str]) -> None:
    """An absolute contraindication the patient reported at home blocks treatment, as one in a
    screening does, until a practitioner's screening confirms or corrects their answers."""
    row = reported_contraindication(
        patient_id=session.patient_id, technique=technique, ingredients=ingredients
    )
    if row is not None:
        detail = f" ({row.detail})" if row.detail else ""
        raise SafetyRefusal(
            f"Absolute contraindication reported by the patient at home, unconfirmed: yes to "
            f"“{row.rule.question}”{detail}. Take a new screening to confirm or correct their "
            "answers before treatment."
        )


def _check_all(
    *, session: Session, profile: StaffProfile, data: RecordData, now: datetime
) -> tuple:
    _check_session(session)
    _check_input(data)
    _check_practitioner(session=session, profile=profile, depth=data.depth)
    ingredients = _session_ingredients(session)
    _check_reported(session=session, technique=data.technique, ingredients=ingredients)
    screening = _check_screening(session=session, reconfirmed=data.screening_reconfirmed, now=now)
    consent = _check_consent(session)
    _check_contraindications(
        screening=screening,
        technique=data.technique,
        ingredients=ingredients,
        risk_reason=data.risk_reason,
    )
    return screening, consent


def record_session_lock(session_id: int) -> Session:
    """Every write to a session's record locks the session row first, and only that row.

    One fixed lock for the record, its products and its signature serialises them (the record
    row may not exist yet). FOR NO KEY UPDATE and `of=self`: the inserts these writes make
    (audit entry, product line) take KEY SHARE locks on the patient, user and session rows,
    which a plain FOR UPDATE on joined rows would block, deadlocking two record pages.
    """
    return (
        Session.objects.select_for_update(no_key=True, of=("self",))
        .select_related("patient", "session_type")
        .get(pk=session_id)
    )


def record_save(*, session: Session, by: User, data: RecordData) -> SessionRecord:
    """Create or update the (unsigned) record, after every safety rule has passed."""
    profile = clinician_required(by=by, action="write a session record")
    with transaction.atomic():
        session = record_session_lock(session.pk)
        record = SessionRecord.objects.filter(session=session).select_related("author").first()
        if record is not None:
            _check_editable(record, by)
        screening, consent = _check_all(
            session=session, profile=profile, data=data, now=timezone.now()
        )
        created = record is None
        if record is None:
            record = SessionRecord(session=session, patient=session.patient, author=by)
        for name in data.FIELDS:
            value = getattr(data, name)
            setattr(record, name, value.strip() if isinstance(value, str) else value)
        record.screening, record.consent = screening, consent
        record.save()
        audit_log(
            actor=by,
            patient=session.patient,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            obj=record,
        )
    return record


def record_product_add(
    *, record: SessionRecord, lot: Lot, volume_ml: Decimal, by: User
) -> LotUsage:
    """Record a product used, after the ingredient rules; lot_use refuses unusable lots."""
    clinician_required(by=by, action="record the products used")
    with transaction.atomic():
        session = record_session_lock(record.session_id)
        record = SessionRecord.objects.select_related("author").get(pk=record.pk)
        record.session = session
        _check_editable(record, by)
        session = record.session
        _check_session(session)
        screening = _check_screening(
            session=session, reconfirmed=record.screening_reconfirmed, now=timezone.now()
        )
        lot = (
            Lot.objects.select_related("product")
            .prefetch_related("product__ingredients")
            .get(pk=lot.pk)
        )
        try:
            _check_reported(
                session=session,
                technique=record.technique,
                ingredients=lot.product.ingredient_names(),
            )
            _check_contraindications(
                screening=screening,
                technique=record.technique,
                ingredients=lot.product.ingredient_names(),
                risk_reason=record.risk_reason,
            )
        except SafetyRefusal as refusal:
            raise SafetyRefusal(
                f"{lot.product.name}: {refusal.message}"
                + (" (in the record above)" if refusal.field == "risk_reason" else ""),
                field="lot",
            ) from None
        usage = lot_use(lot=lot, session=session, volume_ml=volume_ml, by=by)
        audit_log(actor=by, patient=session.patient, action=AuditEntry.Action.UPDATE, obj=record)
    return usage


def record_product_remove(*, record: SessionRecord, usage: LotUsage, by: User) -> None:
    clinician_required(by=by, action="change the products used")
    with transaction.atomic():
        record_session_lock(record.session_id)
        record = SessionRecord.objects.select_related("author").get(pk=record.pk)
        _check_editable(record, by)
        if usage.session_id != record.session_id:
            raise ClinicalError("That product line belongs to another session.")
        lot_usage_reverse(usage=usage, by=by)
        audit_log(actor=by, patient=record.patient, action=AuditEntry.Action.UPDATE, obj=record)


def record_sign(
    *, record: SessionRecord, by: User, ended_at: datetime | None = None
) -> SessionRecord:
    """Lock the record and complete the session with its actual end time (aftercare keys on it)."""
    profile = clinician_required(by=by, action="sign a session record")
    now = timezone.now()
    with transaction.atomic():
        session = record_session_lock(record.session_id)
        record = SessionRecord.objects.select_related("author").get(pk=record.pk)
        record.session = session
        _check_editable(record, by)
        session = record.session
        # The screening may have expired, or consent changed, since the draft was saved.
        _check_all(session=session, profile=profile, data=RecordData.from_record(record), now=now)
        if not record.reactions_none and not record.immediate_reactions.strip():
            raise ClinicalError(
                'State the immediate reactions, or tick "no immediate reaction".',
                field="immediate_reactions",
            )
        if not LotUsage.objects.filter(session=session).exists():
            raise ClinicalError(
                "Record the product(s) used, with lot and volume, before signing.", field="lot"
            )
        if session.status != Session.Status.COMPLETED:
            session_complete(session=session, by=by, ended_at=ended_at or now)
        record.signed_at, record.signed_by = now, by
        record.save(update_fields=["signed_at", "signed_by", "updated_at"])
        audit_log(actor=by, patient=session.patient, action=AuditEntry.Action.SIGN, obj=record)
    return record


def addendum_add(
    *,
    by: User,
    text: str,
    record: SessionRecord | None = None,
    consultation: Consultation | None = None,
) -> Addendum:
    """A dated correction to a signed record or consultation, in its writer's name."""
    clinician_required(by=by, action="add an addendum")
    text = text.strip()
    if not text:
        raise ClinicalError("Write the addendum.", field="text")
    if len(text) > 5000:
        raise ClinicalError("Keep the addendum under 5,000 characters.", field="text")
    target = record if record is not None else consultation
    if target is not None:
        target = type(target).objects.get(pk=target.pk)
    if target is None or not target.is_signed:
        raise ClinicalError("Only a signed document takes addenda; edit the draft instead.")
    with transaction.atomic():
        addendum = Addendum.objects.create(
            record=record, consultation=consultation, author=by, text=text
        )
        audit_log(actor=by, patient=target.patient, action=AuditEntry.Action.ADDENDUM, obj=target)
    return addendum
