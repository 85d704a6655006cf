"""The front-desk calendar: a day (everyone side by side) or a week (one person or room), and
the endpoint a dragged session is dropped on."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow
from mesoclinic.errors import DomainError

from ..calendar.cache import calendar_fragment
from ..forms.booking import CalendarQueryForm, SessionDropForm
from ..models import Session
from ..selectors import clinic_get
from ..services import booking

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


@allow(BOOKING)
@require_POST
def session_drop(request: StaffRequest, pk: int) -> JsonResponse:
    """A session dragged (or moved with the arrow keys) on the calendar: the booking service
    moves it or says why not; static/js/calendar.js shows the reason beside the session."""
    session = get_object_or_404(
        Session.objects.select_related("patient", "session_type", "practitioner__user", "room"),
        pk=pk,
    )
    form = SessionDropForm(request.POST, zone=clinic_get().zone)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"ok": False, "error": " ".join(errors)}, status=400)
    data = form.cleaned_data
    try:
        moved = booking.session_reschedule(
            session=session,
            starts_at=data["starts_at"],
            practitioner=data["practitioner"],
            room=data["room"],
            by=request.user,
        )
    except DomainError as err:
        return JsonResponse({"ok": False, "error": err.message}, status=409)
    local = timezone.localtime(moved.starts_at)
    return JsonResponse(
        {
            "ok": True,
            "message": f"Moved {moved.patient}'s session to {local:%a} {local.day} {local:%b} "
            f"at {local:%H:%M} with {moved.practitioner} in {moved.room}.",
        }
    )
