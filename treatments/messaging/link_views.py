"""The pages behind the patients' signed email links: no login, one action per link."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from mesoclinic.access import public
from mesoclinic.errors import DomainError, put_on_form
from treatments.clinical.forms import PatientQuestionnaireForm
from treatments.clinical.selectors import consent_texts_to_sign, questionnaire_rules
from treatments.clinical.services.questionnaire import (
    QuestionnaireClosed,
    questionnaire_answer,
    questionnaire_for_token,
)
from treatments.clinical.services.reactions import TOOK_PLACE
from treatments.courses.models import Course
from treatments.models import Session
from treatments.selectors import clinic_get

from . import course_messages, link_actions, selectors, tokens
from .forms import ReactionReportForm, SlotForm
from .models import Kind, OutboxMessage
from .tokens import LinkError


def _page(
    request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(
        request, f"messaging/links/{template}", {"clinic": clinic_get(), **ctx}, status=status
    )


def _link_error(request: HttpRequest, err: LinkError) -> HttpResponse:
    return _page(request, "error.html", {"title": err.title, "text": err.message}, err.status)


def _done(request: HttpRequest, title: str, text: str, status: int = 200) -> HttpResponse:
    return _page(request, "done.html", {"title": title, "text": text}, status)


def _session_for(action: str, token: str) -> Session:
    payload = tokens.link_read(action=action, token=token)
    session = selectors.session_for_link(pk=payload.get("s"))
    if session is None:
        raise tokens.LinkInvalid()
    return session


def _at(instant: datetime) -> str:
    local = instant.astimezone(clinic_get().zone)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def _moved(request: HttpRequest, sent_for: datetime, session: Session) -> HttpResponse:
    return _done(
        request,
        "Your appointment has moved",
        f"This confirmation was for {_at(sent_for)}; your appointment has moved to "
        f"{_at(session.starts_at)}. A new confirmation was sent: please use the link in it.",
        status=409,
    )


@public
@require_http_methods(["GET", "POST"])
def link_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payload = tokens.link_read(action="confirm", token=token)
        session = selectors.session_for_link(pk=payload.get("s"))
        if session is None:
            raise tokens.LinkInvalid()
        sent_for = selectors.confirm_link_sent_for(payload=payload, session=session)
        if sent_for is not None and session.status == Session.Status.BOOKED:
            return _moved(request, sent_for, session)
        if request.method == "POST":
            link_actions.link_session_confirm(token=token)
            return _done(request, "Thank you", "Your appointment is confirmed. See you then.")
    except LinkError as err:
        return _link_error(request, err)
    except link_actions.ConfirmationSuperseded as err:
        return _moved(request, err.sent_for, err.session)
    except DomainError as err:
        return _done(request, "Nothing to confirm", err.message, status=409)
    return _page(
        request,
        "confirm.html",
        {"session": session, "status": selectors.status_for_patient(session)},
    )


@public
@require_http_methods(["GET", "POST"])
def link_cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = _session_for("cancel", token)
        if request.method == "POST":
            link_actions.link_session_cancel(token=token)
            return _done(request, "Appointment cancelled", "Your appointment is cancelled.")
    except LinkError as err:
        return _link_error(request, err)
    except DomainError as err:
        return _done(request, "The appointment was not cancelled", err.message, status=409)
    blocked = selectors.cancel_blocked_reason(session)
    return _page(request, "cancel.html", {"session": session, "blocked": blocked})


@public
@require_http_methods(["GET", "POST"])
def link_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tokens.link_read(action="unsubscribe", token=token)
        if request.method == "POST":
            link_actions.link_unsubscribe(token=token)
            return _done(
                request,
                "You will not receive these emails any more",
                "We will not send you reminders to book your next session. Your appointment "
                "and aftercare emails continue; to change that, please call the clinic.",
            )
    except LinkError as err:
        return _link_error(request, err)
    return _page(request, "unsubscribe.html", {})


@public
@require_http_methods(["GET", "POST"])
def link_reaction(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = _session_for("reaction", token)
    except LinkError as err:
        return _link_error(request, err)
    if session.status not in TOOK_PLACE:
        return _done(
            request,
            "Nothing to report for this appointment",
            "Our records show this appointment did not take place. If you have a reaction after "
            "another treatment, please call the clinic.",
            status=409,
        )
    form = ReactionReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link_actions.link_reaction_report(token=token, **form.cleaned_data)
        except LinkError as err:
            return _link_error(request, err)
        except DomainError as err:
            put_on_form(form, err)
        else:
            severe = form.cleaned_data["severity"] == "severe"
            return _done(
                request,
                "Thank you for telling us",
                "A practitioner will look at your report today and contact you if needed."
                + (
                    " As it is severe, please also call the clinic now; if your lips, tongue or "
                    "throat swell or you find it hard to breathe, call 999."
                    if severe
                    else ""
                ),
            )
    return _page(request, "reaction.html", {"form": form, "session": session})


def _offered(course: Course, message: OutboxMessage, zone: ZoneInfo) -> list[datetime]:
    """The free times the page offers now, in the clinic's zone."""
    number = None if message.kind == Kind.MAINTENANCE else message.step
    return [s.astimezone(zone) for s in course_messages.offered_slots(course, number)]


@public
@require_http_methods(["GET", "POST"])
def link_book(request: HttpRequest, token: str) -> HttpResponse:
    try:
        payload = tokens.link_read(action="book", token=token)
        message, course = selectors.nudge_for_link(payload=payload)
    except LinkError as err:
        return _link_error(request, err)
    maintenance = message.kind == Kind.MAINTENANCE
    if not maintenance and not selectors.course_message_applies(message):
        return _done(
            request,
            "Already booked",
            "This session is already booked, or the course has "
            "ended. Please call the clinic if you need to change anything.",
            status=409,
        )
    zone = clinic_get().zone
    form = SlotForm(request.POST or None, slots=_offered(course, message, zone))
    if request.method == "POST" and form.is_valid():
        try:
            session = link_actions.link_book_slot(token=token, starts_at=form.cleaned_data["slot"])
        except LinkError as err:
            return _link_error(request, err)
        except DomainError as err:
            form = SlotForm(slots=_offered(course, message, zone))
            form.add_error(None, f"{err.message} Here are the times free now.")
        else:
            start = session.starts_at.astimezone(zone)
            return _done(
                request,
                "Booked",
                f"Your session is booked for {start:%A} {start.day} "
                f"{start:%B} at {start:%H:%M}. A confirmation email is on its way.",
            )
    return _page(request, "book.html", {"form": form, "course": course, "maintenance": maintenance})


@public
@require_http_methods(["GET", "POST"])
def link_questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    """The health questionnaire before the visit: the clinic's screening questions in the
    patient's words, and the consent they will sign (to read). The answers go to the
    practitioner as reported, unconfirmed; the link is used up when they are sent."""
    try:
        questionnaire = questionnaire_for_token(token=token)
    except LinkError as err:
        return _link_error(request, err)
    except QuestionnaireClosed as err:
        return _done(request, "Nothing more to answer", err.message, status=410)
    form = PatientQuestionnaireForm(request.POST or None, rules=questionnaire_rules())
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire_answer(token=token, answers=form.answers())
        except LinkError as err:
            return _link_error(request, err)
        except QuestionnaireClosed as err:
            return _done(request, "Nothing more to answer", err.message, status=410)
        except DomainError as err:
            put_on_form(form, err)
        else:
            return _done(
                request,
                "Thank you: your answers are with the clinic",
                "Your practitioner will go through them with you at your visit. If anything "
                "changes before then, tell them when you arrive.",
            )
    return _page(
        request,
        "questionnaire.html",
        {
            "title": "Health questions before your visit",
            "form": form,
            "patient": questionnaire.patient,
            "session": questionnaire.session,
            "consent_texts": consent_texts_to_sign(patient=questionnaire.patient),
        },
    )
