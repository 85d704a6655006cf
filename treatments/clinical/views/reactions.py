"""Side effects reported by a practitioner, and their follow-up."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mesoclinic.access import CLINICAL, StaffRequest, allow
from mesoclinic.audit.services import audit_log
from mesoclinic.errors import DomainError, put_on_form

from .. import forms as f
from ..models import Reaction
from ..services.reactions import reaction_acknowledge, reaction_report, reaction_update
from .common import VIEW, session_or_404


@allow(CLINICAL)
def reaction_create(request: StaffRequest, session_pk: int) -> HttpResponse:
    session = session_or_404(session_pk)
    form = f.ReactionForm(request.POST or None, initial={"onset": f.local_now_input()})
    if request.method == "POST" and form.is_valid():
        try:
            reaction_report(
                session=session,
                patient=session.patient,
                source="practitioner",
                reported_by=request.user,
                **form.cleaned_data,
            )
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Reaction recorded.")
            return redirect("clinical:patient", patient_pk=session.patient_id)
    return render(
        request,
        "clinical/reaction_form.html",
        {"session": session, "patient": session.patient, "form": form},
    )


@allow(CLINICAL)
def reaction_detail(request: StaffRequest, pk: int) -> HttpResponse:
    reaction = get_object_or_404(
        Reaction.objects.select_related("patient", "session__session_type", "reported_by"), pk=pk
    )
    form = f.ReactionUpdateForm(
        request.POST or None,
        initial={
            "severity": reaction.severity,
            "action_taken": reaction.action_taken,
            "resolved_on": reaction.resolved_on,
            "resolution": reaction.resolution,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            reaction_update(reaction=reaction, by=request.user, **form.cleaned_data)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, "Reaction updated.")
            return redirect("clinical:reaction_detail", pk=reaction.pk)
    elif request.method != "POST":
        audit_log(actor=request.user, patient=reaction.patient, action=VIEW, obj=reaction)
    return render(
        request,
        "clinical/reaction_detail.html",
        {"reaction": reaction, "patient": reaction.patient, "form": form},
    )


@allow(CLINICAL)
@require_POST
def reaction_acknowledge_view(request: StaffRequest, pk: int) -> HttpResponse:
    reaction = get_object_or_404(Reaction, pk=pk)
    try:
        reaction_acknowledge(reaction=reaction, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, "Acknowledged: it is off the dashboard's alerts.")
    return redirect("clinical:dashboard")
