"""The nearest offered starts for a session type, with one practitioner or any."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from mesoclinic.access import BOOKING, allow

from ..availability import offers_next
from ..forms.booking import NextAvailableForm
from ..selectors import clinic_zone, rooms_active, session_types_active, staff_bookable


@allow(BOOKING)
def next_available(request: HttpRequest) -> HttpResponse:
    form = NextAvailableForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    session_type = data.get("session_type") or session_types_active().first()
    staff = [data["practitioner"]] if data.get("practitioner") else list(staff_bookable())
    slots = []
    if session_type is not None:
        slots = offers_next(
            session_type=session_type,
            practitioners=staff,
            rooms=list(rooms_active()),
            zone=clinic_zone(),
            now=timezone.now(),
        )
    context = {"form": form, "session_type": session_type, "slots": slots}
    return render(request, "treatments/next_available.html", context)
