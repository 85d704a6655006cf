"""Report-a-reaction and book-the-next-session pages behind the patients' email links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mesoclinic.errors import DomainError
from treatments.courses.models import Course
from treatments.selectors import clinic_get

from . import course_messages, links, services
from .forms import ReactionReportForm, SlotForm
from .links import LinkError
from .models import Kind, OutboxMessage


def _page(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> Any:
    return render(
        request, f"messaging/links/{template}", {"clinic": clinic_get(), **ctx}, status=status
    )


def reaction_view(request: HttpRequest, token: str) -> HttpResponse:
    from .views import _done, _link_error, _session_for

    try:
        session = _session_for("reaction", token)
    except LinkError as err:
        return _link_error(request, err)
    form = ReactionReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_reaction_report(token=token, **form.cleaned_data)
        except LinkError as err:
            return _link_error(request, err)
        except DomainError as err:
            form.add_error(err.field if err.field in form.fields else None, err.message)
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


def book_view(request: HttpRequest, token: str) -> HttpResponse:
    from .views import _done, _link_error

    try:
        payload = links.link_read(action="book", token=token)
        message = OutboxMessage.objects.filter(pk=payload.get("m")).first()
        course = (
            Course.objects.select_related("practitioner__user", "session_type", "room")
            .filter(pk=payload.get("c"), patient_id=payload.get("p"))
            .first()
        )
        if message is None or course is None:
            raise links.LinkInvalid()
    except LinkError as err:
        return _link_error(request, err)
    maintenance = message.kind == Kind.MAINTENANCE
    if not maintenance and not course_messages.course_message_applies(message):
        return _done(
            request,
            "Already booked",
            "This session is already booked, or the course has "
            "ended. Please call the clinic if you need to change anything.",
            status=409,
        )
    zone = clinic_get().zone
    slots = [
        s.astimezone(zone)
        for s in course_messages.offered_slots(course, None if maintenance else message.step)
    ]
    form = SlotForm(request.POST or None, slots=slots)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.link_book_slot(token=token, starts_at=form.cleaned_data["slot"])
        except LinkError as err:
            return _link_error(request, err)
        except DomainError as err:
            form = SlotForm(
                slots=[
                    s.astimezone(zone)
                    for s in course_messages.offered_slots(
                        course, None if maintenance else message.step
                    )
                ]
            )
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
