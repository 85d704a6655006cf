"""Reads for data protection: everything held about one patient, and what erasure may remove.

`patient_export_read` reads the whole record in a fixed number of queries (about twenty),
whatever the number of sessions, photos or messages: each kind of row is one query, and the
rows it points at come with it (select_related) or in one more query (prefetch_related).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, Prefetch
from django.utils import timezone

from patients.models import ConsentChange, Patient
from treatments.clinical.models import (
    Addendum,
    ClinicalPhoto,
    ConsentSignature,
    Consultation,
    PhotoConsent,
    Questionnaire,
    Reaction,
    Screening,
    SessionRecord,
)
from treatments.courses.models import Course
from treatments.messaging.models import STAFF_KINDS, OutboxMessage
from treatments.models import Clinic, Session
from treatments.products.models import LotUsage
from treatments.waitlist.models import Entry as WaitlistEntry
from treatments.waitlist.models import Offer as WaitlistOffer

from .models import ErasureRequest

SCHEMA_VERSION = 1


@dataclass
class ExportFile:
    """A stored file to copy into the ZIP under `arcname`."""

    arcname: str
    storage_name: str


@dataclass
class PatientExport:
    patient: Patient
    data: dict[str, Any]
    files: list[ExportFile] = field(default_factory=list)


def _at(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(user: User | None) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _addenda(addenda: list[Addendum]) -> list[dict[str, Any]]:
    return [
        {"id": a.pk, "at": _at(a.at), "author": _who(a.author), "text": a.text} for a in addenda
    ]


def _patient(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": _at(patient.date_of_birth),
        "email": patient.email,
        "phone": patient.phone,
        "address": patient.address,
        "email_reminders_consent": patient.email_reminders_consent,
        "email_reminders_consent_at": _at(patient.email_reminders_consent_at),
        "marketing_consent": patient.marketing_consent,
        "marketing_consent_at": _at(patient.marketing_consent_at),
        "registered_at": _at(patient.created_at),
        "updated_at": _at(patient.updated_at),
    }


def _sessions(patient: Patient) -> list[dict[str, Any]]:
    rows = Session.objects.filter(patient=patient).select_related(
        "session_type", "practitioner__user", "room"
    )
    return [
        {
            "id": s.pk,
            "session_type": s.session_type.name,
            "practitioner": s.practitioner.display_name,
            "room": s.room.name,
            "starts_at": _at(s.starts_at),
            "ends_at": _at(s.ends_at),
            "status": s.status,
            "arrived_at": _at(s.arrived_at),
            "completed_at": _at(s.completed_at),
            "cancelled_at": _at(s.cancelled_at),
            "cancel_reason": s.cancel_reason,
            "notes": s.notes,
        }
        for s in rows
    ]


def _consultations(patient: Patient) -> tuple[list[dict[str, Any]], list[Any]]:
    rows = (
        Consultation.objects.filter(patient=patient)
        .select_related("practitioner")
        .prefetch_related(
            "plan_products", Prefetch("addenda", Addendum.objects.select_related("author"))
        )
    )
    out, products = [], []
    for c in rows:
        plan = list(c.plan_products.all())
        products.extend(plan)
        out.append(
            {
                "id": c.pk,
                "created_at": _at(c.created_at),
                "practitioner": _who(c.practitioner),
                "concerns": list(c.concerns),
                "concerns_other": c.concerns_other,
                "goals": c.goals,
                "skin_type": c.skin_type,
                "fitzpatrick": c.fitzpatrick,
                "hydration": c.hydration,
                "elasticity": c.elasticity,
                "sensitivity": c.sensitivity,
                "skin_notes": c.skin_notes,
                "risks_explained": c.risks_explained,
                "risks_notes": c.risks_notes,
                "recommendation": c.recommendation,
                "plan_zones": list(c.plan_zones),
                "plan_product_ids": [p.pk for p in plan],
                "plan_protocol": c.plan_protocol,
                "plan_sessions": c.plan_sessions,
                "signed_at": _at(c.signed_at),
                "addenda": _addenda(list(c.addenda.all())),
            }
        )
    return out, products


def _questionnaires(patient: Patient) -> list[dict[str, Any]]:
    """The health questionnaires the patient answered at home (reported, unconfirmed)."""
    rows = Questionnaire.objects.filter(patient=patient).prefetch_related("answers")
    return [
        {
            "id": q.pk,
            "status": q.status,
            "created_at": _at(q.created_at),
            "answered_at": _at(q.answered_at),
            "confirmed_by_screening_id": q.screening_id,
            "answers": [
                {"question": a.question, "answer": a.answer, "detail": a.detail}
                for a in q.answers.all()
            ],
        }
        for q in rows
    ]


def _screenings(patient: Patient) -> list[dict[str, Any]]:
    rows = (
        Screening.objects.filter(patient=patient)
        .select_related("taken_by")
        .prefetch_related("answers")
    )
    return [
        {
            "id": s.pk,
            "taken_at": _at(s.taken_at),
            "taken_by": _who(s.taken_by),
            "valid_until": _at(s.valid_until),
            "answers": [
                {"question": a.question, "answer": a.answer, "detail": a.detail}
                for a in s.answers.all()
            ],
        }
        for s in rows
    ]


def _records(patient: Patient) -> list[dict[str, Any]]:
    rows = (
        SessionRecord.objects.filter(patient=patient)
        .select_related("author", "signed_by")
        .prefetch_related(Prefetch("addenda", Addendum.objects.select_related("author")))
    )
    return [
        {
            "id": r.pk,
            "session_id": r.session_id,
            "author": _who(r.author),
            "created_at": _at(r.created_at),
            "screening_id": r.screening_id,
            "consent_signature_id": r.consent_id,
            "technique": r.technique,
            "depth": r.depth,
            "spacing_mm": r.spacing_mm,
            "zones": list(r.zones),
            "anaesthetic_used": r.anaesthetic_used,
            "anaesthetic_product": r.anaesthetic_product,
            "anaesthetic_minutes": r.anaesthetic_minutes,
            "laser_on": _at(r.laser_on),
            "microneedling_on": _at(r.microneedling_on),
            "peel_on": _at(r.peel_on),
            "immediate_reactions": r.immediate_reactions,
            "risk_reason": r.risk_reason,
            "notes": r.notes,
            "signed_at": _at(r.signed_at),
            "signed_by": _who(r.signed_by),
            "addenda": _addenda(list(r.addenda.all())),
        }
        for r in rows
    ]


def _photo_name(photo: ClinicalPhoto) -> str:
    ext = os.path.splitext(photo.image.name or "")[1].lower() or ".jpg"
    return f"photos/{photo.pk}-{photo.stage}-{photo.zone}-{photo.view}{ext}"


def patient_export_read(*, patient: Patient) -> PatientExport:
    """Everything held about `patient`, as JSON-ready data plus the files to include."""
    clinic, _ = Clinic.objects.get_or_create(pk=1)
    consultations, plan_products = _consultations(patient)
    usages = list(LotUsage.objects.filter(session__patient=patient).select_related("lot__product"))
    products = {p.pk: p for p in plan_products}
    products.update({u.lot.product.pk: u.lot.product for u in usages})
    lots = {u.lot.pk: u.lot for u in usages}
    signatures = list(
        ConsentSignature.objects.filter(patient=patient).select_related(
            "session_type", "witnessed_by"
        )
    )
    photos = list(ClinicalPhoto.objects.filter(patient=patient).select_related("uploaded_by"))
    # A saved signature or photo always has a file name (the stubs allow None).
    files = [ExportFile(f"signatures/{s.pk}.png", s.signature.name or "") for s in signatures]
    files += [ExportFile(_photo_name(p), p.image.name or "") for p in photos]
    courses = (
        Course.objects.filter(patient=patient)
        .select_related("protocol", "practitioner__user", "session_type")
        .prefetch_related("steps")
    )
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "exported_at": _at(timezone.now()),
        "clinic": {"name": clinic.name, "address": clinic.address, "email": clinic.email},
        "patient": _patient(patient),
        "consent_changes": [
            {
                "id": c.pk,
                "kind": c.kind,
                "given": c.given,
                "at": _at(c.at),
                "source": c.source,
                "recorded_by": _who(c.recorded_by),
            }
            for c in ConsentChange.objects.filter(patient=patient).select_related("recorded_by")
        ],
        "consent_signatures": [
            {
                "id": s.pk,
                "session_type": s.session_type.name,
                "version": s.version,
                "title": s.title_snapshot,
                "text": s.text_snapshot,
                "typed_name": s.typed_name,
                "signed_at": _at(s.signed_at),
                "witnessed_by": _who(s.witnessed_by),
                "file": f"signatures/{s.pk}.png",
            }
            for s in signatures
        ],
        "photo_consents": [
            {
                "id": c.pk,
                "purpose": c.purpose,
                "given": c.given,
                "at": _at(c.at),
                "recorded_by": _who(c.recorded_by),
            }
            for c in PhotoConsent.objects.filter(patient=patient).select_related("recorded_by")
        ],
        "sessions": _sessions(patient),
        "consultations": consultations,
        "screenings": _screenings(patient),
        "health_questionnaires": _questionnaires(patient),
        "session_records": _records(patient),
        "products": [
            {
                "id": p.pk,
                "name": p.name,
                "manufacturer": p.manufacturer,
                "registration_body": p.registration_body,
                "registration_number": p.registration_number,
            }
            for p in sorted(products.values(), key=lambda p: p.pk)
        ],
        "lots": [
            {
                "id": lot.pk,
                "product_id": lot.product_id,
                "lot_number": lot.lot_number,
                "expiry_date": _at(lot.expiry_date),
            }
            for lot in sorted(lots.values(), key=lambda lot: lot.pk)
        ],
        "lot_usages": [
            {
                "id": u.pk,
                "session_id": u.session_id,
                "lot_id": u.lot_id,
                "volume_ml": str(u.volume_ml),
                "recorded_at": _at(u.recorded_at),
            }
            for u in usages
        ],
        "reactions": [
            {
                "id": r.pk,
                "session_id": r.session_id,
                "type": r.type,
                "severity": r.severity,
                "onset": _at(r.onset),
                "description": r.description,
                "resolved_on": _at(r.resolved_on),
                "resolution": r.resolution,
                "action_taken": r.action_taken,
                "source": r.source,
                "reported_by": _who(r.reported_by),
            }
            for r in Reaction.objects.filter(patient=patient).select_related("reported_by")
        ],
        "photos": [
            {
                "id": p.pk,
                "session_id": p.session_id,
                "stage": p.stage,
                "zone": p.zone,
                "view": p.view,
                "width": p.width,
                "height": p.height,
                "taken_at": _at(p.taken_at),
                "uploaded_by": _who(p.uploaded_by),
                "file": _photo_name(p),
            }
            for p in photos
        ],
        "courses": [
            {
                "id": c.pk,
                "protocol": c.protocol.name,
                "practitioner": c.practitioner.display_name,
                "session_type": c.session_type.name,
                "status": c.status,
                "sessions_count": c.sessions_count,
                "created_at": _at(c.created_at),
                "completed_at": _at(c.completed_at),
                "stopped_at": _at(c.stopped_at),
                "stop_reason": c.stop_reason,
                "maintenance_due": _at(c.maintenance_due),
                "consultation_id": c.consultation_id,
                "steps": [{"number": s.number, "session_id": s.session_id} for s in c.steps.all()],
            }
            for c in courses
        ],
        # What was sent or scheduled to the patient: never the claim or the SMTP error text.
        "messages": [
            {
                "id": m["id"],
                "kind": m["kind"],
                "status": m["status"],
                "due_at": _at(m["due_at"]),
                "sent_at": _at(m["sent_at"]),
                "sent_to": m["sent_to"],
                "subject": m["subject"],
                "session_id": m["session_id"],
                "course_id": m["course_id"],
            }
            # Staff alerts about the patient (a severe reaction) went to staff, not to them;
            # the reaction itself is exported above.
            for m in OutboxMessage.objects.filter(patient=patient)
            .exclude(kind__in=STAFF_KINDS)
            .values(
                "id",
                "kind",
                "status",
                "due_at",
                "sent_at",
                "sent_to",
                "subject",
                "session_id",
                "course_id",
            )
        ],
        "waiting_list": [
            {
                "id": w.pk,
                "session_type": w.session_type.name,
                "practitioner_id": w.practitioner_id,
                "earliest": _at(w.earliest),
                "latest": _at(w.latest),
                "times_of_day": w.times_display,
                "status": w.status,
                "joined_at": _at(w.joined_at),
                "added_online": w.added_online,
                "session_id": w.session_id,
                "offers": [
                    {
                        "starts_at": _at(o.starts_at),
                        "status": o.status,
                        "expires_at": _at(o.expires_at),
                        "decided_at": _at(o.decided_at),
                    }
                    for o in w.offers.all()
                ],
            }
            for w in WaitlistEntry.objects.filter(patient=patient)
            .select_related("session_type")
            .prefetch_related(Prefetch("offers", queryset=WaitlistOffer.objects.order_by("pk")))
            .order_by("pk")
        ],
        "erasure_requests": [
            {
                "id": e.pk,
                "requested_at": _at(e.requested_at),
                "outcome": e.outcome,
                "retention_until": _at(e.retention_until),
                "completed_at": _at(e.completed_at),
            }
            for e in ErasureRequest.objects.filter(patient=patient)
        ],
    }
    return PatientExport(patient=patient, data=data, files=files)


# --- erasure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicalHold:
    """Why the clinical part of an erasure must wait, and until when."""

    last_treatment: dt.date
    retention_until: dt.date
    years: int


def _latest(values: list[dt.datetime | None]) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def patient_clinical_hold(*, patient: Patient) -> ClinicalHold | None:
    """None when the patient has no clinical record; otherwise the retention period.

    A clinical record is a consultation, screening, session record, photo, reaction or signed
    consent. The period runs from the latest of them and of any completed session (the "last
    treatment"), read as a day in the clinic's zone, for `Clinic.record_retention_years`.
    """
    clinic, _ = Clinic.objects.get_or_create(pk=1)
    latest = _latest(
        [
            Consultation.objects.filter(patient=patient).aggregate(m=Max("created_at"))["m"],
            Screening.objects.filter(patient=patient).aggregate(m=Max("taken_at"))["m"],
            SessionRecord.objects.filter(patient=patient).aggregate(m=Max("created_at"))["m"],
            ClinicalPhoto.objects.filter(patient=patient).aggregate(m=Max("taken_at"))["m"],
            Reaction.objects.filter(patient=patient).aggregate(m=Max("onset"))["m"],
            ConsentSignature.objects.filter(patient=patient).aggregate(m=Max("signed_at"))["m"],
        ]
    )
    if latest is None:
        return None
    completed = Session.objects.filter(patient=patient, status=Session.Status.COMPLETED).aggregate(
        m=Max("completed_at"), s=Max("starts_at")
    )
    latest = max(v for v in (latest, completed["m"], completed["s"]) if v is not None)
    day = latest.astimezone(clinic.zone).date()
    years = clinic.record_retention_years
    return ClinicalHold(last_treatment=day, retention_until=_add_years(day, years), years=years)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 1 March
        return day.replace(year=day.year + years, month=3, day=1)


def erasure_pending(*, patient: Patient) -> ErasureRequest | None:
    return (
        ErasureRequest.objects.filter(patient=patient, completed_at__isnull=True)
        .order_by("-requested_at")
        .first()
    )


def patient_upcoming_sessions(*, patient: Patient, now: dt.datetime) -> int:
    return Session.objects.filter(
        patient=patient, status=Session.Status.BOOKED, starts_at__gte=now
    ).count()
