"""Helpers shared by the clinical views."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from mesoclinic.access import StaffRequest
from mesoclinic.audit.models import AuditEntry
from mesoclinic.errors import DomainError
from treatments.models import Session

from .. import forms as f
from ..models import Consultation, SessionRecord
from ..selectors import session_for_record
from ..services.records import addendum_add

VIEW = AuditEntry.Action.VIEW


def key_or_404(key: str) -> uuid.UUID:
    # Keys are random UUIDs; anything else cannot name a file, so it is simply not found.
    try:
        return uuid.UUID(key)
    except ValueError:
        raise Http404("No such file.") from None


def session_or_404(pk: int) -> Session:
    """The session with its patient and type: enough for the photo and reaction pages."""
    return get_object_or_404(Session.objects.select_related("patient", "session_type"), pk=pk)


def record_session_or_404(pk: int) -> Session:
    """The session with everything the record page shows (products, record, addenda)."""
    try:
        return session_for_record(pk=pk)
    except Session.DoesNotExist:
        raise Http404("No such session.") from None


def file_response(field_file: FieldFile, content_type: str) -> FileResponse:
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    response = FileResponse(handle, content_type=content_type)
    # Clinical images never sit in a shared or browser cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def addendum_post(
    request: StaffRequest, *, target: SessionRecord | Consultation, back: str, **back_kwargs: int
) -> HttpResponse:
    """Add an addendum to a signed consultation or record and return to the document named
    by `back`."""
    form = f.AddendumForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["text"]
        try:
            if isinstance(target, SessionRecord):
                addendum_add(by=request.user, text=text, record=target)
            else:
                addendum_add(by=request.user, text=text, consultation=target)
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, "Addendum added.")
    else:
        messages.error(request, "Write the addendum (5,000 characters at most).")
    return redirect(reverse(back, kwargs=back_kwargs))
