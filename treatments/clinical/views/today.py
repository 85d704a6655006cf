"""The practitioner's and therapist's home: today's sessions with their readiness badges."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from mesoclinic.access import CLINICAL, Role, allow, has_role
from mesoclinic.audit.services import audit_log
from treatments.selectors import clinic_zone

from ..today import records_flagged, today_clinical
from .common import VIEW


@allow(CLINICAL)
def today(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    day = timezone.localdate(now, clinic_zone())
    # A practitioner or therapist sees their own list; a manager sees everyone's.
    profile = getattr(request.user, "staff_profile", None)
    own = has_role(request.user, {Role.PRACTITIONER, Role.THERAPIST})
    practitioner_id = profile.pk if own and profile is not None else None
    context = {
        "day": day,
        "rows": today_clinical(day=day, now=now, practitioner_id=practitioner_id),
        "flagged": records_flagged(practitioner_id=practitioner_id),
        "own": own,
    }
    # Names patients beside clinical readiness: audited like the clinical dashboard.
    audit_log(actor=request.user, patient=None, action=VIEW, object_type="today")
    return render(request, "clinical/today.html", context)
