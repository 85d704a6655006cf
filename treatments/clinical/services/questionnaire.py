"""The health questionnaire before the visit: when it is asked, the patient's answers, and the
practitioner's review.

When it is asked (`questionnaire_sync`, run by the booking hook on every session change and
after every screening): a patient with a booked session at whose start they will have no valid
screening (none on file: a new patient; or the latest one will be stale by then) is asked once
per such screening. One message, timed `questionnaire_days` before the first such session (at
once when that is sooner). It follows the sessions: moved with them while unsent, cancelled
when no session needs it any more (unless already sent: the patient may still answer, and a
later booking reuses it rather than sending a second one) or when a practitioner takes a
screening meanwhile.

The answers (`questionnaire_answer`) arrive through a signed, single-use link and are stored as
reported, never as a screening. An absolute contraindication among them alerts the practitioner
of the next session (staff outbox message), shows the desk "see practitioner", and blocks the
session record until a practitioner's screening confirms or corrects it
(`reported_contraindication`, called by services/records.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from mesoclinic.audit.models import AuditEntry
from mesoclinic.audit.services import audit_log
from patients.models import Patient
from treatments.messaging import conf, tokens
from treatments.messaging.models import Kind, OutboxMessage, Reason, Status
from treatments.messaging.outbox import (
    message_retime,
    message_schedule,
    messages_close,
    staff_alert_schedule,
)
from treatments.models import Session, StaffProfile

from ..errors import ClinicalError
from ..models import Questionnaire, ReportedAnswer, Screening, ScreeningRule
from ..selectors import (
    practitioners_to_alert,
    questionnaire_rules,
    reported_absolute_answers,
    screening_latest,
)

log = logging.getLogger(__name__)

LINK_ACTION = "questionnaire"
OPEN_STATUSES = (Questionnaire.Status.OPEN, Questionnaire.Status.ANSWERED)


class QuestionnaireClosed(ClinicalError):
    """The questionnaire was answered already, or is no longer needed."""


def _first_stale_session(
    patient_id: int, screening: Screening | None, now: datetime
) -> Session | None:
    """The patient's first booked session at whose start they will have no valid screening."""
    sessions = Session.objects.filter(
        patient_id=patient_id, status=Session.Status.BOOKED, starts_at__gt=now
    )
    if screening is not None:
        sessions = sessions.filter(starts_at__gte=screening.valid_until)
    return sessions.order_by("starts_at", "id").first()


def _timing(session: Session, now: datetime) -> tuple[datetime, datetime]:
    due = max(now, session.starts_at - timedelta(days=conf.questionnaire_days()))
    return due, session.starts_at


def _message(questionnaire: Questionnaire) -> OutboxMessage | None:
    return (
        OutboxMessage.objects.select_for_update(of=("self",))
        .filter(kind=Kind.QUESTIONNAIRE, questionnaire=questionnaire)
        .first()
    )


def _cancel(questionnaire: Questionnaire, reason: str) -> None:
    questionnaire.status = Questionnaire.Status.CANCELLED
    questionnaire.cancelled_reason = reason[:200]
    questionnaire.save(update_fields=["status", "cancelled_reason"])
    messages_close(
        OutboxMessage.objects.filter(questionnaire=questionnaire),
        status=Status.CANCELLED,
        code=Reason.NOT_APPLICABLE,
        reason=reason,
        include_skipped=True,
    )


def questionnaire_sync(*, patient_id: int, now: datetime | None = None) -> Questionnaire | None:
    """Make the patient's questionnaire follow their booked sessions and latest screening.

    Idempotent; call inside the transaction of the change (a booking, a screening). Returns the
    open questionnaire, if any.
    """
    now = now or timezone.now()
    screening = screening_latest(patient_id=patient_id)
    basis_id = screening.pk if screening is not None else None
    first = _first_stale_session(patient_id, screening, now)
    current = (
        Questionnaire.objects.select_for_update(of=("self",))
        .filter(patient_id=patient_id, status__in=OPEN_STATUSES)
        .first()
    )
    if current is not None and current.status == Questionnaire.Status.ANSWERED:
        return current  # the answers wait for a practitioner's screening
    if current is not None and current.basis_id != basis_id:
        _cancel(current, "A practitioner took a screening meanwhile.")
        current = None
    if current is not None:
        message = _message(current)
        sent = message is not None and message.status not in (Status.PENDING, Status.SKIPPED)
        if first is None:
            if not sent:
                _cancel(current, "No booked session needs it any more.")
                return None
            if current.session_id is not None:
                current.session = None
                current.save(update_fields=["session"])
            return current
        if current.session_id != first.pk:
            current.session = first
            current.save(update_fields=["session"])
        if message is not None and not sent:
            due_at, expires_at = _timing(first, now)
            if (message.due_at, message.expires_at) != (due_at, expires_at):
                message_retime(
                    message,
                    patient=Patient.objects.get(pk=patient_id),
                    due_at=due_at,
                    expires_at=expires_at,
                    now=now,
                )
        return current
    if first is None:
        return None
    if screening is not None and (
        Questionnaire.objects.filter(patient_id=patient_id, basis=screening)
        .exclude(status=Questionnaire.Status.CANCELLED)
        .exists()
    ):
        return None  # asked once for this screening already
    questionnaire = Questionnaire.objects.create(
        patient_id=patient_id, basis=screening, session=first, created_at=now
    )
    due_at, expires_at = _timing(first, now)
    message_schedule(
        kind=Kind.QUESTIONNAIRE,
        patient=first.patient,
        questionnaire_id=questionnaire.pk,
        due_at=due_at,
        expires_at=expires_at,
        now=now,
    )
    return questionnaire


def on_session_change(session: Session, change: str) -> None:
    """The booking hook ("questionnaire" slot): every change may start, move or end one."""
    questionnaire_sync(patient_id=session.patient_id)


def questionnaire_link_make(*, questionnaire: Questionnaire, now: datetime | None = None) -> str:
    """The token for the patient's link: single use (on submit), expires after the link days."""
    now = now or timezone.now()
    return tokens.link_make(
        action=LINK_ACTION,
        payload={"q": questionnaire.pk, "p": questionnaire.patient_id},
        expires_at=now + timedelta(days=conf.questionnaire_link_days()),
    )


def _ids(payload: dict) -> tuple[int, int]:
    pk, patient_id = payload.get("q"), payload.get("p")
    if not isinstance(pk, int) or not isinstance(patient_id, int):
        raise tokens.LinkInvalid()
    return pk, patient_id


def questionnaire_for_token(*, token: str) -> Questionnaire:
    """The open questionnaire a valid link is for; raises a LinkError or QuestionnaireClosed."""
    pk, patient_id = _ids(tokens.link_read(action=LINK_ACTION, token=token))
    questionnaire = (
        Questionnaire.objects.select_related("patient", "session__session_type")
        .filter(pk=pk, patient_id=patient_id)
        .first()
    )
    if questionnaire is None:
        raise tokens.LinkInvalid()
    if questionnaire.status != Questionnaire.Status.OPEN:
        raise QuestionnaireClosed(
            "Thank you: your answers have already reached the clinic."
            if questionnaire.status != Questionnaire.Status.CANCELLED
            else "This questionnaire is no longer needed. Thank you."
        )
    return questionnaire


def _check_answers(rules: list[ScreeningRule], answers: dict[int, tuple[bool, str]]) -> None:
    for rule in rules:
        if rule.pk not in answers:
            raise ClinicalError("Please answer this question.", field=f"rule_{rule.pk}")
        answer, detail = answers[rule.pk]
        if len(detail) > 500:
            raise ClinicalError("Please keep this under 500 characters.", field=f"detail_{rule.pk}")
        if answer and rule.asks_detail and not detail.strip():
            raise ClinicalError(
                "Please tell us a little more (for example the name).", field=f"detail_{rule.pk}"
            )


def questionnaire_answer(
    *, token: str, answers: dict[int, tuple[bool, str]], now: datetime | None = None
) -> Questionnaire:
    """Store the patient's answers as reported (never a screening) and use up the link.

    Nothing changes on a refused answer (the link still works), a tampered, expired or used
    link, or a questionnaire no longer open.
    """
    now = now or timezone.now()
    rules = questionnaire_rules()
    _check_answers(rules, answers)
    with transaction.atomic():
        pk, patient_id = _ids(tokens.link_use(action=LINK_ACTION, token=token, now=now))
        questionnaire = (
            Questionnaire.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=pk, patient_id=patient_id)
            .first()
        )
        if questionnaire is None:
            raise tokens.LinkInvalid()
        if questionnaire.status != Questionnaire.Status.OPEN:
            raise QuestionnaireClosed("This questionnaire is no longer open.")
        ReportedAnswer.objects.bulk_create(
            ReportedAnswer(
                questionnaire=questionnaire,
                rule=rule,
                question=rule.patient_wording,
                answer=answers[rule.pk][0],
                detail=answers[rule.pk][1].strip() if answers[rule.pk][0] else "",
            )
            for rule in rules
        )
        questionnaire.status = Questionnaire.Status.ANSWERED
        questionnaire.answered_at = now
        questionnaire.save(update_fields=["status", "answered_at"])
        audit_log(
            actor=None,
            patient=questionnaire.patient,
            action=AuditEntry.Action.CREATE,
            obj=questionnaire,
            note="answered by the patient",
        )
        if any(
            answers[rule.pk][0] and rule.severity == ScreeningRule.Severity.ABSOLUTE
            for rule in rules
        ):
            _alert(questionnaire, now)
    return questionnaire


def _alert(questionnaire: Questionnaire, now: datetime) -> list[OutboxMessage]:
    """Tell the practitioner of the next session (else those `practitioners_to_alert` names)."""
    upcoming = (
        Session.objects.filter(
            patient_id=questionnaire.patient_id,
            status__in=(Session.Status.BOOKED, Session.Status.ARRIVED),
            ends_at__gt=now,
        )
        .select_related("practitioner__user")
        .order_by("starts_at", "id")
        .first()
    )
    staff: list[StaffProfile] = (
        [upcoming.practitioner]
        if upcoming is not None and upcoming.practitioner.user.is_active
        else practitioners_to_alert(now=now)[0]
    )
    if not staff:
        log.error("questionnaire %s: there is no active practitioner to alert", questionnaire.pk)
    return [
        staff_alert_schedule(
            kind=Kind.QUESTIONNAIRE_ALERT,
            patient=questionnaire.patient,
            staff_user=profile.user,
            questionnaire_id=questionnaire.pk,
            now=now,
        )
        for profile in staff
    ]


def questionnaire_review(
    *, questionnaire: Questionnaire, screening: Screening, by: User, now: datetime
) -> None:
    """Mark the patient's answers confirmed or corrected by the practitioner's screening; call in
    the screening's transaction. One audit entry per answer ("confirmed" / "corrected"), none
    with the answer itself."""
    locked = Questionnaire.objects.select_for_update(of=("self",)).get(pk=questionnaire.pk)
    if locked.status != Questionnaire.Status.ANSWERED or locked.patient_id != screening.patient_id:
        raise ClinicalError("These answers were already reviewed; reload the page.")
    given = {a.rule_id: a.answer for a in screening.answers.all()}
    reported = list(locked.answers.all())
    for row in reported:
        audit_log(
            actor=by,
            patient=screening.patient,
            action=AuditEntry.Action.UPDATE,
            obj=row,
            note="confirmed" if given.get(row.rule_id) == row.answer else "corrected",
        )
    locked.status = Questionnaire.Status.REVIEWED
    locked.screening, locked.reviewed_at, locked.reviewed_by = screening, now, by
    locked.save(update_fields=["status", "screening", "reviewed_at", "reviewed_by"])
    corrected = sum(1 for row in reported if given.get(row.rule_id) != row.answer)
    audit_log(
        actor=by,
        patient=screening.patient,
        action=AuditEntry.Action.UPDATE,
        obj=locked,
        note=f"reviewed: {len(reported) - corrected} confirmed, {corrected} corrected",
    )
    messages_close(
        OutboxMessage.objects.filter(questionnaire=locked, kind=Kind.QUESTIONNAIRE_ALERT),
        status=Status.CANCELLED,
        code=Reason.NOT_APPLICABLE,
        reason="A practitioner reviewed the answers.",
    )


def reported_contraindication(
    *, patient_id: int, technique: str | None = None, ingredients: list[str] | None = None
) -> ReportedAnswer | None:
    """An absolute contraindication the patient reported at home, not yet reviewed, that applies
    to this technique and these ingredients (as a screening's would)."""
    ingredients = [name.strip().lower() for name in ingredients or [] if name.strip()]
    rows = reported_absolute_answers(patient_ids=[patient_id]).select_related("rule")
    for row in rows:
        if technique is None or row.rule.applies(
            detail=row.detail, technique=technique, ingredients=ingredients
        ):
            return row
    return None
