"""The front desk's home: today's arrivals, who has confirmed, and flags without detail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from mesoclinic.access import BOOKING, allow

from ..clinical.today import today_desk
from ..selectors import clinic_zone


@allow(BOOKING)
def desk_today(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    day = timezone.localdate(now, clinic_zone())
    rows = today_desk(day=day, now=now)
    counts = {
        status: sum(1 for row in rows if row.session.status == status)
        for status in ("booked", "arrived", "completed", "no_show")
    }
    context = {"day": day, "rows": rows, "counts": counts, "now": now}
    return render(request, "treatments/today.html", context)
