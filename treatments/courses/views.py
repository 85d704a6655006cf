from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mesoclinic.access import BOOKING, CLINICAL, MANAGEMENT, StaffRequest, allow
from mesoclinic.audit.services import Action, audit_log
from mesoclinic.errors import DomainError, put_on_form
from patients.models import Patient

from ..rebook import book_next_url
from ..selectors import clinic_zone
from . import selectors
from .forms import CourseForm, ProtocolForm, StepBookForm, StepChoiceQueryForm, StopForm
from .models import Course, Protocol
from .planner import StepPlan, course_propose
from .services import (
    course_book_all,
    course_book_step,
    course_create,
    course_stop,
    protocol_save,
)


def _course_or_404(pk: int) -> Course:
    try:
        return selectors.course_get(pk=pk)
    except Course.DoesNotExist:
        raise Http404("No such course.") from None


def _book_next(course: Course, plans: list[StepPlan]) -> str | None:
    """The booking form for the next unbooked step, from the day its window opens."""
    step = next((plan for plan in plans if not plan.booked), None)
    if step is None:
        return None
    today = timezone.localdate(timezone.now(), clinic_zone())
    return book_next_url(
        patient_id=course.patient_id,
        session_type_id=course.session_type_id,
        practitioner_id=course.practitioner_id,
        room_id=course.room_id,
        day=max(step.window_open, today) if step.window_open else None,
    )


def _detail(
    request: StaffRequest,
    course: Course,
    *,
    errors: dict[int, StepBookForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    plans = course_propose(course=course) if course.status == Course.Status.ACTIVE else []
    done, total = selectors.course_progress(course)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "plans": plans,
            "steps": list(course.steps.all()),
            "done": done,
            "total": total,
            "percent": round(100 * done / total) if total else 0,
            "bookable": any(plan.proposed for plan in plans),
            "book_next_url": _book_next(course, plans),
            "errors": errors or {},
            "stop_form": StopForm(),
        },
        status=status,
    )


@allow(BOOKING)
def course_detail(request: StaffRequest, pk: int) -> HttpResponse:
    course = _course_or_404(pk)
    # The page names the protocol (it reveals the condition) and, to clinical staff, why a
    # course stopped: each look at one patient's course is audited.
    audit_log(actor=request.user, patient=course.patient, action=Action.VIEW, obj=course)
    return _detail(request, course)


@allow(BOOKING)
def course_list(request: StaffRequest) -> HttpResponse:
    courses = list(selectors.courses_list())
    rows = [(course, *selectors.course_progress(course)) for course in courses]
    return render(request, "courses/course_list.html", {"rows": rows})


@allow(BOOKING)
@require_POST
def course_book_step_view(request: StaffRequest, pk: int, number: int) -> HttpResponse:
    course = _course_or_404(pk)
    form = StepBookForm(request.POST)
    if form.is_valid():
        try:
            booking = course_book_step(
                course=course,
                step_number=number,
                starts_at=form.cleaned_data["starts_at"],
                room=form.cleaned_data["room"],
                by=request.user,
            )
        except DomainError as err:
            form.add_error(None, err.message)
        else:
            messages.success(request, f"Session {number} booked.")
            if booking.warning:
                messages.warning(request, booking.warning)
            return redirect("courses:course_detail", pk=course.pk)
    # A refused booking rolled back and left `course` as read: no need to read it again.
    return _detail(request, course, errors={number: form}, status=400)


@allow(BOOKING)
@require_POST
def course_book_all_view(request: StaffRequest, pk: int) -> HttpResponse:
    course = _course_or_404(pk)
    try:
        result = course_book_all(course=course, by=request.user)
    except DomainError as err:
        messages.error(request, err.message)
        return redirect("courses:course_detail", pk=course.pk)
    if result.booked:
        numbers = ", ".join(str(item.step.number) for item in result.booked)
        messages.success(
            request, f"Booked session{'s' if len(result.booked) > 1 else ''} {numbers}."
        )
    for warning in result.warnings:
        messages.warning(request, warning)
    if result.problem:
        messages.error(request, result.problem)
    return redirect("courses:course_detail", pk=course.pk)


@allow(CLINICAL)
@require_POST
def course_stop_view(request: StaffRequest, pk: int) -> HttpResponse:
    course = _course_or_404(pk)
    form = StopForm(request.POST)
    if form.is_valid():
        try:
            course_stop(course=course, reason=form.cleaned_data["reason"], by=request.user)
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, "Course stopped. Booked sessions stay in the calendar.")
    else:
        messages.error(request, "Say why the course is stopped (up to 500 characters).")
    return redirect("courses:course_detail", pk=course.pk)


@allow(CLINICAL)
def course_create_view(request: StaffRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    # ?consultation=<id> comes from "Start a course from this plan": the plan fills the form.
    initial = selectors.course_plan_initial(
        patient=patient, consultation_pk=request.GET.get("consultation", "")[:12]
    )
    form = CourseForm(request.POST or None, patient=patient, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            course = course_create(patient=patient, by=request.user, **form.cleaned_data)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Course created: {course.protocol}.")
            return redirect("courses:course_detail", pk=course.pk)
    return render(request, "courses/course_form.html", {"form": form, "patient": patient})


@allow(BOOKING)
def patient_courses(request: StaffRequest, patient_pk: int) -> HttpResponse:
    """A patient's courses: a full page, or the card alone for the patient page (htmx)."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    courses = list(selectors.courses_for_patient(patient=patient))
    audit_log(
        actor=request.user,
        patient=patient,
        action=Action.VIEW,
        object_type="patient_courses",
        object_id=patient.pk,
    )
    rows = [(course, *selectors.course_progress(course)) for course in courses]
    template = "courses/_patient_courses.html" if request.htmx else "courses/patient_courses.html"
    return render(request, template, {"patient": patient, "rows": rows})


@allow(CLINICAL)
def protocol_list(request: StaffRequest) -> HttpResponse:
    return render(request, "courses/protocol_list.html", {"protocols": selectors.protocols_list()})


def _protocol_form(request: StaffRequest, protocol: Protocol | None) -> HttpResponse:
    form = ProtocolForm(request.POST or None, instance=protocol)
    if request.method == "POST" and form.is_valid():
        try:
            saved = protocol_save(data=form.cleaned_data, protocol=protocol)
        except DomainError as err:
            put_on_form(form, err)
        else:
            messages.success(request, f"Protocol “{saved}” saved. Courses under way keep theirs.")
            return redirect("courses:protocol_list")
    return render(request, "courses/protocol_form.html", {"form": form, "protocol": protocol})


@allow(MANAGEMENT)
def protocol_create(request: StaffRequest) -> HttpResponse:
    return _protocol_form(request, None)


@allow(MANAGEMENT)
def protocol_edit(request: StaffRequest, pk: int) -> HttpResponse:
    return _protocol_form(request, get_object_or_404(Protocol, pk=pk))


@allow(BOOKING)
def booking_step_choice(request: StaffRequest) -> HttpResponse:
    """The booking form's "count this as session k of the course" choice, refreshed by htmx
    when the desk picks the patient or changes the session type or the date."""
    query = StepChoiceQueryForm(request.GET)
    query.is_valid()
    data = query.cleaned_data
    patient_pk = data.get("patient")
    patient = Patient.objects.filter(pk=patient_pk).first() if patient_pk else None
    same_type = data.get("course_step_for_type") == data.get("session_type")
    keep = data.get("course_step", "") if "course_step" in request.GET and same_type else None
    context = selectors.booking_step_context(
        patient=patient, session_type_id=data.get("session_type"), day=data.get("date"), keep=keep
    )
    return render(request, "courses/_booking_step_choice.html", context)
