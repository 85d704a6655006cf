"""The front desk's home: today's arrivals, who has confirmed, flags without detail, and the
patients who cancelled by email link (until someone acknowledges each)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, StaffRequest, allow

from ..clinical.today import today_desk
from ..messaging.desk_notices import (
    patient_cancellation_acknowledge,
    patient_cancellations_unseen,
)
from ..messaging.models import PatientCancellation
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
    context = {
        "day": day,
        "rows": rows,
        "counts": counts,
        "now": now,
        "cancellations": patient_cancellations_unseen(),
    }
    return render(request, "treatments/today.html", context)


@allow(BOOKING)
@require_POST
def patient_cancellation_seen(request: StaffRequest, pk: int) -> HttpResponse:
    """Acknowledge a patient's cancellation by link; back to Today, or to the session's page."""
    cancellation = get_object_or_404(
        PatientCancellation.objects.select_related("session__patient"), pk=pk
    )
    if patient_cancellation_acknowledge(cancellation=cancellation, by=request.user):
        messages.success(request, f"{cancellation.session.patient}'s cancellation is marked seen.")
    if request.POST.get("back") == "session":
        return redirect("treatments:session_detail", cancellation.session_id)
    return redirect("treatments:today")
