"""Compose an outbox row into an email: subject, text and HTML templates per kind, plus an .ics.

Rendered in the clinic's zone (timezone.override), since a Celery worker has no request and
would otherwise show UTC. Staff previews render the same templates with the signed links
replaced by placeholders, so a preview never hands out a working cancel link.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from treatments.clinical.models import Questionnaire
from treatments.clinical.selectors import questionnaire_open
from treatments.clinical.services.questionnaire import questionnaire_link_make
from treatments.models import Clinic, Session
from treatments.waitlist import links as waitlist_links

from . import conf, course_messages, tokens
from .models import (
    NUDGE_KINDS,
    PRE_SESSION_KINDS,
    REQUESTED_KINDS,
    STAFF_KINDS,
    Kind,
    OutboxMessage,
)
from .outbox import answers_online_request, recipient_email

REACTION_LINK_DAYS = 14
NUDGE_LINK_DAYS = 30

WHY: dict[str, str] = {
    Kind.CONFIRMATION: "you have an appointment booked with us",
    Kind.CANCELLATION: "an appointment you had booked with us has been cancelled",
    Kind.PREPARATION: "you have an appointment with us in a few days",
    Kind.REMINDER: "you have an appointment with us tomorrow",
    Kind.AFTERCARE_24H: "you had a treatment session with us yesterday",
    Kind.AFTERCARE_48H: "you had a treatment session with us two days ago",
    Kind.FOLLOW_UP: "the next session of your course is due",
    Kind.FOLLOW_UP_AGAIN: "the next session of your course is due",
    Kind.MAINTENANCE: "the maintenance session after your course is due",
    Kind.COURSE_COMPLETED: "you have completed a course of sessions with us",
    Kind.ONLINE_VERIFY: "this address was given on our online booking page",
    Kind.ONLINE_RECEIVED: "you asked for an appointment on our online booking page",
    Kind.ONLINE_APPROVED: "you asked for an appointment on our online booking page",
    Kind.ONLINE_DECLINED: "you asked for an appointment on our online booking page",
    Kind.SEVERE_REACTION_ALERT: "you are a practitioner on duty at the clinic today",
    Kind.QUESTIONNAIRE: "you have an appointment booked with us",
    Kind.QUESTIONNAIRE_ALERT: "you are the patient's practitioner at their next appointment "
    "(or no one is named and you are an active practitioner)",
    Kind.WAITLIST_JOIN: "this address was given to join our waiting list",
    Kind.WAITLIST_OFFER: "you are on our waiting list",
}


def mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "mesoclinic.localhost"


def one_line(text: str) -> str:
    """A multi-line postal address on one line, for "Where:" and the calendar's LOCATION."""
    return ", ".join(part.strip() for part in (text or "").splitlines() if part.strip())


def message_id(message: OutboxMessage) -> str:
    # Stable per row: a resend after a crash carries the same Message-ID, so mail clients (and
    # the integration tests) can recognise the duplicate.
    return f"<outbox-{message.pk}@{mail_domain()}>"


def _links(message: OutboxMessage, *, preview: bool) -> dict[str, str]:
    session = message.session
    now = timezone.now()
    wanted: dict[str, tuple[dict[str, Any], Any]] = {}
    if session is not None and message.kind in (*PRE_SESSION_KINDS, Kind.ONLINE_APPROVED):
        payload = {"s": session.pk, "m": message.pk}
        if message.kind in (Kind.CONFIRMATION, Kind.ONLINE_APPROVED):
            # The start time it confirms: a link from before a move says so and confirms
            # nothing (link_actions.link_session_confirm).
            confirm = {**payload, "t": int(session.starts_at.timestamp())}
            wanted["confirm"] = (confirm, session.starts_at)
        wanted["cancel"] = (payload, session.starts_at)
    if session is not None and message.kind in (Kind.AFTERCARE_24H, Kind.AFTERCARE_48H):
        wanted["reaction"] = (
            {"s": session.pk, "p": message.patient_id},
            (session.completed_at or now) + timedelta(days=REACTION_LINK_DAYS),
        )
    if message.kind in NUDGE_KINDS:
        if message.kind != Kind.MAINTENANCE or message.course_id:
            wanted["book"] = (
                {"c": message.course_id, "p": message.patient_id, "m": message.pk},
                now + timedelta(days=NUDGE_LINK_DAYS),
            )
        wanted["unsubscribe"] = (
            {"p": message.patient_id},
            now + timedelta(days=conf.link_max_age_days()),
        )
    request = message.booking_request
    if request is not None and message.kind == Kind.ONLINE_VERIFY:
        if preview:
            return {"verify": "[verify link]"}
        token = tokens.link_make(
            action="online_verify", payload={"r": request.pk}, expires_at=request.expires_at
        )
        return {"verify": conf.site_url() + reverse("online:verify", args=[token])}
    if message.questionnaire is not None and message.kind == Kind.QUESTIONNAIRE:
        if preview:
            return {"questionnaire": "[questionnaire link]"}
        return {"questionnaire": questionnaire_url(message.questionnaire, now=now)}
    offer = message.waitlist_offer
    if offer is not None and message.kind == Kind.WAITLIST_OFFER:
        return {"offer": "[offer link]" if preview else waitlist_links.offer_url(offer)}
    entry = message.waitlist_entry
    if entry is not None and message.kind == Kind.WAITLIST_JOIN:
        return {"join": "[join link]" if preview else waitlist_links.join_url(entry)}
    if preview:
        links = {action: f"[{action} link]" for action in wanted}
    else:
        links = {
            action: tokens.link_url(action=action, payload=payload, expires_at=expires_at)
            for action, (payload, expires_at) in wanted.items()
        }
    if answers_online_request(message) and session is not None and message.patient_id:
        # The answer to an online booking carries the open questionnaire's link: it reaches the
        # verified address even when the patient left "reminders and aftercare" unticked (the
        # questionnaire's own email keeps its consent gate).
        questionnaire = questionnaire_open(patient_id=message.patient_id)
        if questionnaire is not None:
            links["questionnaire"] = (
                "[questionnaire link]" if preview else questionnaire_url(questionnaire, now=now)
            )
    return links


def questionnaire_url(questionnaire: Questionnaire, *, now: datetime) -> str:
    token = questionnaire_link_make(questionnaire=questionnaire, now=now)
    return conf.site_url() + reverse("messaging:link_questionnaire", args=[token])


def _staff_base(message: OutboxMessage, *, clinic: Clinic) -> dict[str, Any]:
    """What every staff alert's context starts with: whom it greets, and the patient."""
    user = message.staff_user
    return {
        "message": message,
        "kind": message.kind,
        "clinic": clinic,
        "zone_name": clinic.timezone,
        "first_name": (user.first_name or user.get_username()) if user is not None else "",
        "why": WHY[message.kind],
        "patient": message.patient,
    }


def _questionnaire_alert_context(
    message: OutboxMessage, *, clinic: Clinic, preview: bool
) -> dict[str, Any]:
    """An absolute contraindication reported at home: which patient, when they come, and a link
    to the screening form showing the answers. Never the answers themselves."""
    questionnaire = message.questionnaire
    session = questionnaire.session if questionnaire is not None else None
    link = "[screening link]"
    if not preview and message.patient_id is not None:
        link = conf.site_url() + reverse("clinical:screening_create", args=[message.patient_id])
    return {
        **_staff_base(message, clinic=clinic),
        "starts": session.starts_at.astimezone(clinic.zone) if session is not None else None,
        "screening_link": link,
    }


def _staff_context(message: OutboxMessage, *, clinic: Clinic, preview: bool) -> dict[str, Any]:
    """A staff alert: who it is for, which patient, and a link to the reaction's page. No
    clinical free text (the patient's own words stay behind the staff sign-in)."""
    if message.kind == Kind.QUESTIONNAIRE_ALERT:
        return _questionnaire_alert_context(message, clinic=clinic, preview=preview)
    reaction = message.reaction
    link = "[reaction page link]"
    if not preview and reaction is not None:
        link = conf.site_url() + reverse("clinical:reaction_detail", args=[reaction.pk])
    return {
        **_staff_base(message, clinic=clinic),
        "reaction": reaction,
        "onset": reaction.onset.astimezone(clinic.zone) if reaction is not None else None,
        "reported_by_patient": reaction is not None and reaction.source == "patient",
        "reaction_link": link,
        "dashboard_link": "[dashboard link]"
        if preview
        else conf.site_url() + reverse("clinical:dashboard"),
    }


def context_for(message: OutboxMessage, *, clinic: Clinic, preview: bool) -> dict[str, Any]:
    if message.kind in STAFF_KINDS:
        return _staff_context(message, clinic=clinic, preview=preview)
    session = message.session
    ctx: dict[str, Any] = {
        "message": message,
        "kind": message.kind,
        "clinic": clinic,
        "zone_name": clinic.timezone,
        "first_name": (
            message.patient.first_name
            if message.patient
            else getattr(message.booking_request, "first_name", "")
        ),
        "why": WHY[message.kind],
        "optional": message.kind in NUDGE_KINDS,
        # Sent because the person asked on the booking page, not under a consent: the footer
        # must not claim they agreed to reminder emails.
        "answer": answers_online_request(message),
        # A waiting-list offer: sent because the patient asked to be told, not under a consent.
        "requested": message.kind in REQUESTED_KINDS,
        "links": _links(message, preview=preview),
        "cancel_notice_hours": conf.cancel_notice_hours(),
        "address": one_line(clinic.address),
    }
    if "questionnaire" in ctx["links"]:
        ctx["link_days"] = conf.questionnaire_link_days()
    if session is not None:
        ctx.update(
            session=session,
            starts=session.starts_at.astimezone(clinic.zone),
            ends=session.ends_at.astimezone(clinic.zone),
            practitioner=session.practitioner.display_name,
            room=session.room.name,
            session_type=session.session_type.name,
        )
    request = message.booking_request
    if request is not None and message.kind == Kind.CONFIRMATION:
        ctx["why"] = "you booked this appointment on our online booking page"
    if request is not None and session is None:
        ctx.update(
            booking_request=request,
            starts=request.starts_at.astimezone(clinic.zone),
            session_type=request.session_type.name,
            expires=request.expires_at.astimezone(clinic.zone),
        )
    offer = message.waitlist_offer
    if offer is not None:
        ctx.update(
            offer=offer,
            starts=offer.starts_at.astimezone(clinic.zone),
            ends=(offer.starts_at + offer.session_type.duration).astimezone(clinic.zone),
            practitioner=offer.practitioner.display_name,
            room=offer.room.name,
            session_type=offer.session_type.name,
            expires=offer.expires_at.astimezone(clinic.zone),
        )
    entry = message.waitlist_entry
    if entry is not None:
        ctx.update(
            entry=entry,
            session_type=entry.session_type.name,
            expires=(entry.verify_expires_at or message.expires_at).astimezone(clinic.zone),
        )
    course = message.course
    if course is not None:
        ctx.update(course_messages.course_context(message, course=course, clinic=clinic))
    questionnaire = message.questionnaire
    if questionnaire is not None:
        first = questionnaire.session
        ctx.update(
            link_days=conf.questionnaire_link_days(),
            starts=first.starts_at.astimezone(clinic.zone) if first is not None else None,
        )
    return ctx


def _render(message: OutboxMessage, ctx: dict[str, Any], clinic: Clinic) -> tuple[str, str, str]:
    base = f"messaging/emails/{message.kind}"
    with timezone.override(clinic.zone):
        subject = " ".join(render_to_string(f"{base}/subject.txt", ctx).split())
        text = render_to_string(f"{base}/body.txt", ctx)
        html = render_to_string(f"{base}/body.html", ctx)
    return subject[:200], text, html


def message_preview(message: OutboxMessage, *, clinic: Clinic) -> tuple[str, str]:
    subject, text, _ = _render(message, context_for(message, clinic=clinic, preview=True), clinic)
    return subject, text


def session_ics(session: Session, *, clinic: Clinic, sequence: int) -> str:
    """An iCalendar event in the clinic's zone, with the zone's VTIMEZONE so calendar apps show
    the right local time whatever their own zone."""
    zone = clinic.zone
    cal = Calendar()
    cal.add("prodid", "-//mesoclinic//patient messages//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"session-{session.pk}@{mail_domain()}")
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    # No treatment name: calendars are often shared or shown on lock screens.
    event.add("summary", f"Appointment at {clinic.name}")
    where = (clinic.name, one_line(clinic.address), session.room.name)
    event.add("location", ", ".join(part for part in where if part))
    event.add("description", f"With {session.practitioner.display_name}.")
    cal.add_component(_vtimezone(zone.key, session.starts_at.year))
    cal.add_component(event)
    return cal.to_ical().decode()


@functools.lru_cache(maxsize=16)
def _vtimezone(key: str, year: int) -> Timezone:
    # The zone's rules around the appointment only: the full history since 1970 is ~800 lines
    # and ~20 ms to build and write for every email.
    return Timezone.from_tzid(key, first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))


def message_email(
    message: OutboxMessage, *, clinic: Clinic, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    ctx = context_for(message, clinic=clinic, preview=False)
    subject, text, html = _render(message, ctx, clinic)
    from_email = (
        f"{clinic.name} <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>"
        if clinic.name
        else settings.DEFAULT_FROM_EMAIL
    )
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[recipient_email(message)],
        reply_to=[clinic.email] if clinic.email else None,
        connection=connection,
        headers={"Message-ID": message_id(message), "X-Mesoclinic-Outbox": str(message.pk)},
    )
    email.attach_alternative(html, "text/html")
    if message.kind in (Kind.CONFIRMATION, Kind.ONLINE_APPROVED) and message.session is not None:
        email.attach(
            "appointment.ics",
            session_ics(message.session, clinic=clinic, sequence=message.step),
            "text/calendar",
        )
    return email
