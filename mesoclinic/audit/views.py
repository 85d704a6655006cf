"""The clinic manager's audit page: who did what, to which patient, when; and its CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mesoclinic.access import MANAGEMENT, StaffRequest, allow
from mesoclinic.exports import csv_safe

from . import selectors
from .forms import AuditFilterForm
from .models import AuditEntry
from .services import audit_export

PAGE_SIZE = 50
CSV_HEADER = [
    "at_local",
    "staff_username",
    "staff_name",
    "action",
    "patient_id",
    "patient_name",
    "object_type",
    "object_id",
    "ip",
    "note",
]


def _filters(form: AuditFilterForm) -> dict[str, Any] | None:
    """The selector's filters; {} for no filter at all, None when the input is bad."""
    if not form.is_bound:
        return {}
    return form.filters() if form.is_valid() else None


@allow(MANAGEMENT)
def audit_list(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = _filters(form)
    zone = timezone.get_current_timezone()
    entries = (
        AuditEntry.objects.none()
        if filters is None
        else selectors.audit_entries(**filters, zone=zone)
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/audit_list.html", {"form": form, "page": page})


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(entries: QuerySet[AuditEntry], zone: ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for entry in entries.iterator(chunk_size=2000):
        actor, patient = entry.actor, entry.patient
        row = [
            entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            actor.username if actor else "",
            actor.get_full_name() if actor else "",
            entry.get_action_display(),
            entry.patient_id or "",
            f"{patient.last_name}, {patient.first_name}" if patient else "",
            entry.object_type,
            entry.object_id if entry.object_id is not None else "",
            entry.ip or "",
            entry.note,
        ]
        yield writer.writerow([csv_safe(value) for value in row])


@allow(MANAGEMENT)
def audit_csv(request: StaffRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET or None)
    filters = _filters(form)
    if filters is None:  # the page shows what is wrong beside the field
        messages.error(request, "Correct the filters, then export again.")
        return redirect(f"{reverse('audit:audit_list')}?{request.GET.urlencode()}")
    zone = timezone.get_current_timezone()
    entries = selectors.audit_entries(**filters, zone=zone)
    # The export is itself audited; the file holds what existed before this entry.
    entry = audit_export(actor=request.user, what="audit CSV", rows=entries.count())
    response = StreamingHttpResponse(
        _csv_rows(entries.filter(pk__lt=entry.pk), zone), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(entry.at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
