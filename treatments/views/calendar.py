"""The front-desk calendar: a day (everyone side by side) or a week (one person or room)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from mesoclinic.access import BOOKING, StaffRequest, allow

from ..calendar.cache import calendar_fragment
from ..forms.booking import CalendarQueryForm
from ..selectors import clinic_get

# The session type this desk last chose, used when the address names none.
SESSION_TYPE_KEY = "calendar_session_type"


@allow(BOOKING)
def calendar(request: StaffRequest) -> HttpResponse:
    query = CalendarQueryForm(request.GET)
    query.is_valid()  # a bad parameter falls back to its default, with a notice
    params = query.cleaned_data
    zone = clinic_get().zone
    now = timezone.now()
    if params.get("session_type"):
        request.session[SESSION_TYPE_KEY] = params["session_type"]
    session_type_id = params.get("session_type") or request.session.get(SESSION_TYPE_KEY)
    fragment = calendar_fragment(
        view=params.get("view") or "week",
        day=params.get("date") or now.astimezone(zone).date(),
        practitioner_id=params.get("practitioner"),
        room_id=params.get("room"),
        by=params.get("by") or "practitioners",
        zone=zone,
        now=now,
        user_id=request.user.pk,
        query_errors=query.errors,
        session_type_id=session_type_id,
    )
    # htmx navigation swaps just the calendar; history restores and plain requests get a page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = (
        "treatments/partials/calendar_fragment.html" if partial else "treatments/calendar.html"
    )
    context = {"calendar": fragment, "page": fragment.page, "query_errors": query.errors}
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
