"""Taking a medical history (screening) and judging it against a planned treatment."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient

from ..errors import ClinicalError
from ..models import ClinicalSettings, Questionnaire, Screening, ScreeningAnswer, ScreeningRule
from .authority import clinician_required
from .holds import booking_hold_follow_screening
from .questionnaire import questionnaire_review, questionnaire_sync


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def screening_record(
    *,
    patient: Patient,
    by: User,
    answers: dict[int, tuple[bool, str]],
    taken_at: datetime | None = None,
    questionnaire: Questionnaire | None = None,
) -> Screening:
    """Record a complete screening: every active rule answered yes or no.

    `answers` maps rule id to (answer, detail). A screening is never edited: a newer one
    replaces it, so the history of what was declared, and when, stays intact.

    `questionnaire` is the patient's answered questionnaire the form showed pre-filled: this
    screening confirms or corrects each answer. One answered since the form was opened must be
    looked at first, so it is refused rather than passed over.
    """
    clinician_required(by=by, action="record a screening")
    waiting = Questionnaire.objects.filter(
        patient=patient, status=Questionnaire.Status.ANSWERED
    ).first()
    if waiting is not None and (questionnaire is None or questionnaire.pk != waiting.pk):
        raise ClinicalError(
            "The patient has answered the health questionnaire since this form was opened. "
            "Open the screening again to see their answers."
        )
    rules = list(ScreeningRule.objects.filter(active=True))
    missing = [rule for rule in rules if rule.pk not in answers]
    if missing:
        raise ClinicalError(
            f"Answer every question; {len(missing)} unanswered, starting with: "
            f"{missing[0].question}",
            field=f"rule_{missing[0].pk}",
        )
    for rule in rules:
        answer, detail = answers[rule.pk]
        if len(detail) > 500:
            raise ClinicalError("Keep the details under 500 characters.", field=f"detail_{rule.pk}")
        if answer and rule.asks_detail and not detail.strip():
            raise ClinicalError("Give the details for this answer.", field=f"detail_{rule.pk}")
    taken_at = taken_at or timezone.now()
    months = ClinicalSettings.get().screening_valid_months
    with transaction.atomic():
        screening = Screening.objects.create(
            patient=patient,
            taken_by=by,
            taken_at=taken_at,
            valid_until=add_months(taken_at, months),
        )
        ScreeningAnswer.objects.bulk_create(
            ScreeningAnswer(
                screening=screening,
                rule=rule,
                question=rule.question,
                answer=answers[rule.pk][0],
                detail=answers[rule.pk][1].strip() if answers[rule.pk][0] else "",
            )
            for rule in rules
        )
        audit_log(actor=by, patient=patient, action=AuditEntry.Action.CREATE, obj=screening)
        # Same transaction: the desk can never book on a screening that should hold them.
        booking_hold_follow_screening(screening=screening, by=by)
        if waiting is not None:
            questionnaire_review(
                questionnaire=waiting, screening=screening, by=by, now=timezone.now()
            )
        # A questionnaire still waiting for this patient is not needed any more (or is needed
        # for a session past this screening's validity).
        questionnaire_sync(patient_id=patient.pk)
    return screening


@dataclass(frozen=True)
class Finding:
    """A "yes" that matters for the planned treatment."""

    rule: ScreeningRule
    question: str
    detail: str

    @property
    def severity(self) -> str:
        return self.rule.severity

    @property
    def is_absolute(self) -> bool:
        return self.rule.severity == ScreeningRule.Severity.ABSOLUTE

    @property
    def is_relative(self) -> bool:
        return self.rule.severity == ScreeningRule.Severity.RELATIVE


def screening_findings(
    *,
    screening: Screening,
    technique: str | None = None,
    ingredients: list[str] | None = None,
) -> list[Finding]:
    """The positive answers that apply to this technique and these product ingredients.

    Severity is read from the rule as it is now, so a clinic that tightens a rule applies it
    to screenings already taken. Uses prefetched answers and rules when present.
    """
    ingredients = [name.strip().lower() for name in ingredients or [] if name.strip()]
    findings = []
    for answer in screening.answers.all():
        if not answer.answer:
            continue
        if answer.rule.applies(detail=answer.detail, technique=technique, ingredients=ingredients):
            findings.append(
                Finding(rule=answer.rule, question=answer.question, detail=answer.detail)
            )
    return findings
