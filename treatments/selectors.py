"""Reads for the clinic, its calendar and availability. Query counts stay flat as rows grow."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from mesoclinic.access import Role
from patients.models import Patient

from .clinic_time import local_interval
from .messaging.models import SessionConfirmation
from .models import (
    CalendarVersion,
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingException,
    WorkingHours,
)

Interval = tuple[datetime, datetime]

# No held slot [starts_at, blocked_until) is longer than a session type's longest duration plus
# its longest buffer (60 + 120 minutes, SessionType's check constraints; only the booking service
# writes sessions). Overlap queries therefore also bound starts_at from below: "starts before the
# end" alone matches every earlier session of the practitioner, which at 100k sessions made the
# week view's query read the whole history (39 ms, and a bad join plan) instead of one week
# (0.3 ms). A day is far beyond any slot, so nothing is missed; PostgreSQL enforces the bound
# (constraint session_slot_at_most_one_day, migration 0004).
LONGEST_HELD_SLOT = timedelta(days=1)


# The clinic row of the request being served (set by ClinicTimezoneMiddleware), so that the
# many callers of clinic_get()/clinic_zone() in one request read it once. Outside a request
# (Celery tasks, commands, other threads) it is unset and clinic_get() reads the row.
_request_clinic: ContextVar[Clinic | None] = ContextVar("request_clinic", default=None)


@contextmanager
def clinic_for_request() -> Iterator[Clinic]:
    clinic = _clinic_read()
    token = _request_clinic.set(clinic)
    try:
        yield clinic
    finally:
        _request_clinic.reset(token)


def clinic_get() -> Clinic:
    return _request_clinic.get() or _clinic_read()


def _clinic_read() -> Clinic:
    clinic = Clinic.objects.filter(pk=1).first()
    if clinic is None:
        clinic, _ = Clinic.objects.get_or_create(
            pk=1, defaults={"timezone": settings.CLINIC_DEFAULT_TIMEZONE}
        )
    return clinic


def clinic_zone() -> ZoneInfo:
    return clinic_get().zone


def staff_bookable() -> QuerySet[StaffProfile]:
    return StaffProfile.objects.filter(bookable=True, user__is_active=True).select_related("user")


def rooms_active() -> QuerySet[Room]:
    return Room.objects.filter(active=True)


def session_types_active() -> QuerySet[SessionType]:
    return SessionType.objects.filter(active=True).order_by("name", "pk")


def sessions_between(
    *,
    starts: datetime,
    ends: datetime,
    practitioner_ids: Iterable[int] | None = None,
    room_ids: Iterable[int] | None = None,
    include_inactive: bool = True,
) -> QuerySet[Session]:
    """Sessions whose held slot [starts_at, blocked_until) meets [starts, ends)."""
    qs = Session.objects.filter(
        starts_at__lt=ends,
        starts_at__gt=starts - LONGEST_HELD_SLOT,
        blocked_until__gt=starts,
    )
    if practitioner_ids is not None:
        qs = qs.filter(practitioner_id__in=list(practitioner_ids))
    if room_ids is not None:
        qs = qs.filter(room_id__in=list(room_ids))
    if not include_inactive:
        qs = qs.filter(status__in=Session.ACTIVE)
    # Whether the patient confirmed through their email's link (a reschedule deletes it, see
    # messaging.reactions); the calendar marks it. The table is watched by the calendar version.
    confirmed = SessionConfirmation.objects.filter(session=OuterRef("pk"))
    return (
        qs.select_related("patient", "session_type", "practitioner__user", "room")
        .annotate(patient_confirmed=Exists(confirmed))
        .order_by("starts_at", "id")
    )


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    out: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return sorted(out)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def opening_intervals(*, first_day: date, days: int, zone: ZoneInfo) -> dict[date, list[Interval]]:
    """When the clinic is open, per local day, as UTC intervals. One query."""
    opening: dict[int, list[tuple[time, time]]] = defaultdict(list)
    # Plain tuples, not model instances: this runs on every calendar and booking-page request.
    for weekday, opens, closes in OpeningHours.objects.values_list("weekday", "opens", "closes"):
        opening[weekday].append((opens, closes))
    result = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        result[day] = [
            local_interval(day, opens, closes, zone) for opens, closes in opening[day.weekday()]
        ]
    return result


@dataclass(frozen=True)
class _Exception:
    """A working exception's fields that availability needs (read with values_list)."""

    kind: str
    starts: time | None
    ends: time | None


def availability_for(
    *, staff_ids: Iterable[int], first_day: date, days: int, zone: ZoneInfo
) -> dict[tuple[int, date], list[Interval]]:
    """When each practitioner can be booked, per local day, as UTC intervals.

    Bookable time = (weekly working hours within the clinic's opening hours) + extra hours
    - leave. An "extra hours" exception opens the clinic for that practitioner for that period.
    Two queries whatever the number of staff or days: the working hours carry their weekday's
    opening hours (at most one row a weekday, constraint `opening_hours_one_per_day`; none
    means closed), and the exceptions.
    """
    staff_ids = list(staff_ids)
    last_day = first_day + timedelta(days=days - 1)
    opening_row = OpeningHours.objects.filter(weekday=OuterRef("weekday"))
    weekly: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    opening_hours: dict[int, tuple[time, time]] = {}
    for staff_id, weekday, starts, ends, opens, closes in (
        WorkingHours.objects.filter(staff_id__in=staff_ids)
        .annotate(
            opens=Subquery(opening_row.values("opens")[:1]),
            closes=Subquery(opening_row.values("closes")[:1]),
        )
        .order_by()
        .values_list("staff_id", "weekday", "starts", "ends", "opens", "closes")
    ):
        weekly[(staff_id, weekday)].append((starts, ends))
        if opens is not None and closes is not None:
            opening_hours[weekday] = (opens, closes)
    exceptions: dict[tuple[int, date], list[_Exception]] = defaultdict(list)
    for staff_id, on, kind, exc_starts, exc_ends in WorkingException.objects.filter(
        staff_id__in=staff_ids, date__range=(first_day, last_day)
    ).values_list("staff_id", "date", "kind", "starts", "ends"):
        exceptions[(staff_id, on)].append(_Exception(kind, exc_starts, exc_ends))

    result: dict[tuple[int, date], list[Interval]] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        hours = opening_hours.get(day.weekday())
        open_intervals = [local_interval(day, hours[0], hours[1], zone)] if hours else []
        for staff_id in staff_ids:
            working = [
                local_interval(day, starts, ends, zone)
                for starts, ends in weekly[(staff_id, day.weekday())]
            ]
            intervals = _intersect(working, open_intervals)
            for exc in exceptions[(staff_id, day)]:
                # Extra hours always have both times (staff_exception_add refuses them without).
                if exc.kind == WorkingException.Kind.EXTRA and exc.starts and exc.ends:
                    intervals.append(local_interval(day, exc.starts, exc.ends, zone))
            intervals = _merge(intervals)
            for exc in exceptions[(staff_id, day)]:
                if exc.kind == WorkingException.Kind.LEAVE:
                    if exc.starts is None or exc.ends is None:  # the whole day
                        intervals = []
                    else:
                        intervals = _subtract(
                            intervals, local_interval(day, exc.starts, exc.ends, zone)
                        )
            result[(staff_id, day)] = intervals
    return result


def free_intervals(working: list[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """`working` minus every busy [start, blocked_until) interval."""
    free = list(working)
    for cut in busy:
        free = _subtract(free, cut)
    return free


def session_conflicts(
    *,
    starts_at: datetime,
    blocked_until: datetime,
    practitioner_id: int,
    room_id: int,
    exclude_id: int | None = None,
) -> QuerySet[Session]:
    """Active sessions of the practitioner or in the room that overlap the half-open slot."""
    qs = Session.objects.filter(
        Q(practitioner_id=practitioner_id) | Q(room_id=room_id),
        status__in=Session.ACTIVE,
        starts_at__lt=blocked_until,
        starts_at__gt=starts_at - LONGEST_HELD_SLOT,
        blocked_until__gt=starts_at,
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs


def patient_session_conflicts(
    *, patient_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None
) -> QuerySet[Session]:
    """The patient's active sessions overlapping [starts_at, ends_at): the session itself, not
    its clean-up buffer (the room's and practitioner's time, not the patient's)."""
    qs = Session.objects.filter(
        patient_id=patient_id,
        status__in=Session.ACTIVE,
        starts_at__lt=ends_at,
        starts_at__gt=starts_at - LONGEST_HELD_SLOT,
        ends_at__gt=starts_at,
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs


def calendar_version() -> str | None:
    """The calendar's version ("epoch.version"), or None when the grid must not be cached.

    None when this transaction has changed calendar data not yet committed (PostgreSQL bumps
    the version at commit; see migration 0005). A missing row (tables flushed) is recreated
    with a new random epoch, so no earlier key can come back. Read before the grid's data: the
    data read afterwards is at least as new as the version, so a fragment is never stored under
    a version newer than its content.
    """
    table = CalendarVersion._meta.db_table
    dirty = (
        "current_setting('mesoclinic.calendar_dirty', true)"
        if connection.vendor == "postgresql"
        else "NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT epoch, version, {dirty} FROM {table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        created, _ = CalendarVersion.objects.get_or_create(
            pk=1, defaults={"epoch": secrets.randbits(62)}
        )
        return f"{created.epoch}.{created.version}"
    epoch, version, is_dirty = row
    return None if is_dirty == "on" else f"{epoch}.{version}"


@dataclass(frozen=True)
class PatientSessions:
    upcoming: list[Session]
    past: list[Session]


def patient_sessions(*, patient: Patient, now: datetime | None = None) -> PatientSessions:
    """Upcoming sessions (soonest first) and past ones (latest first), in one query."""
    now = now or timezone.now()
    sessions = list(
        patient.sessions.select_related("session_type", "practitioner__user", "room").order_by(
            "starts_at", "id"
        )
    )
    upcoming = [s for s in sessions if s.starts_at >= now]
    past = [s for s in sessions if s.starts_at < now]
    past.reverse()
    return PatientSessions(upcoming=upcoming, past=past)


# --- the clinic set-up screens ----------------------------------------------------------------


def sessions_booked_from_now(
    *,
    room: Room | None = None,
    practitioner: StaffProfile | None = None,
    session_type: SessionType | None = None,
    practitioner_ids: Iterable[int] | None = None,
) -> QuerySet[Session]:
    """Booked sessions starting from now on, narrowed to whichever of the filters are given."""
    qs = Session.objects.filter(status=Session.Status.BOOKED, starts_at__gte=timezone.now())
    if room is not None:
        qs = qs.filter(room=room)
    if practitioner is not None:
        qs = qs.filter(practitioner=practitioner)
    if session_type is not None:
        qs = qs.filter(session_type=session_type)
    if practitioner_ids is not None:
        qs = qs.filter(practitioner_id__in=list(practitioner_ids))
    return qs


def future_booked_count(
    *,
    room: Room | None = None,
    practitioner: StaffProfile | None = None,
    session_type: SessionType | None = None,
) -> int:
    """Booked sessions from now on, e.g. future_booked_count(room=room)."""
    return sessions_booked_from_now(
        room=room, practitioner=practitioner, session_type=session_type
    ).count()


def booked_outside_hours(*, staff_ids: list[int] | None = None) -> int:
    """How many future booked sessions no longer fit their practitioner's bookable hours.

    Hours changes never move sessions; this tells the manager how many to look at. Three queries
    in all (the sessions, then two for the availability), whatever the span.
    """
    sessions = list(
        sessions_booked_from_now(practitioner_ids=staff_ids)
        .only("practitioner_id", "starts_at", "ends_at")
        .order_by("starts_at")
    )
    if not sessions:
        return 0
    zone = clinic_zone()
    first = sessions[0].starts_at.astimezone(zone).date()
    last = sessions[-1].starts_at.astimezone(zone).date()
    available = availability_for(
        staff_ids={s.practitioner_id for s in sessions},
        first_day=first,
        days=(last - first).days + 1,
        zone=zone,
    )
    outside = 0
    for s in sessions:
        day = s.starts_at.astimezone(zone).date()
        intervals = available.get((s.practitioner_id, day), [])
        if not any(start <= s.starts_at and s.ends_at <= end for start, end in intervals):
            outside += 1
    return outside


def opening_hours_list() -> QuerySet[OpeningHours]:
    return OpeningHours.objects.all()


def rooms_count() -> dict[str, int]:
    """{"total": ..., "active": ...}: one query."""
    return Room.objects.aggregate(total=Count("id"), active=Count("id", Q(active=True)))


def session_types_count() -> dict[str, int]:
    """{"total": ..., "active": ...}: one query."""
    return SessionType.objects.aggregate(total=Count("id"), active=Count("id", Q(active=True)))


def staff_count() -> dict[str, int]:
    """{"total": active accounts, "bookable": those of them bookable}: one query."""
    return StaffProfile.objects.aggregate(
        total=Count("id", Q(user__is_active=True)),
        bookable=Count("id", Q(user__is_active=True, bookable=True)),
    )


def _booked_from_now() -> Count:
    return Count(
        "sessions",
        filter=Q(sessions__status=Session.Status.BOOKED, sessions__starts_at__gte=timezone.now()),
    )


def rooms_list() -> QuerySet[Room]:
    """Every room, in use first, each with `booked`: its booked sessions from now on."""
    return Room.objects.annotate(booked=_booked_from_now()).order_by("-active", "name")


def room_get(*, pk: int) -> Room:
    return Room.objects.get(pk=pk)


def session_types_list() -> QuerySet[SessionType]:
    return SessionType.objects.order_by("-active", "name")


def session_type_get(*, pk: int) -> SessionType:
    return SessionType.objects.get(pk=pk)


def staff_list() -> QuerySet[StaffProfile]:
    """Every staff member, active first, with their role groups and `booked` (from now on)."""
    role_names = [role.value for role in Role]
    return (
        StaffProfile.objects.select_related("user")
        .prefetch_related(
            Prefetch("user__groups", queryset=Group.objects.filter(name__in=role_names))
        )
        .annotate(booked=_booked_from_now())
        .order_by("-user__is_active", "user__first_name", "user__last_name", "id")
    )


def staff_get(*, pk: int) -> StaffProfile:
    return StaffProfile.objects.select_related("user").get(pk=pk)


def staff_role(*, staff: StaffProfile) -> str | None:
    """The name of the staff member's role group, None when they have none."""
    role_names = [role.value for role in Role]
    return staff.user.groups.filter(name__in=role_names).values_list("name", flat=True).first()


def working_hours_list(*, staff: StaffProfile) -> QuerySet[WorkingHours]:
    return staff.working_hours.all()


def working_exceptions_from(*, staff: StaffProfile, day: date) -> QuerySet[WorkingException]:
    """The staff member's leave and extra hours on `day` and after."""
    return WorkingException.objects.filter(staff=staff, date__gte=day)


def working_exception_get(*, pk: int, staff_id: int) -> WorkingException:
    return WorkingException.objects.get(pk=pk, staff_id=staff_id)


@dataclass(frozen=True)
class SessionsHeld:
    """What deactivating a room or a practitioner would leave behind."""

    booked_ahead: int  # booked from now on: these must be moved first
    first_booked: datetime | None
    kept: int  # every other session: history, which stays pointing at it


def sessions_held(
    *, room: Room | None = None, practitioner: StaffProfile | None = None
) -> SessionsHeld:
    """One query: a room's or a practitioner's sessions, booked ahead and otherwise."""
    sessions = Session.objects.filter(
        **({"room": room} if room is not None else {"practitioner": practitioner})
    )
    ahead = Q(status=Session.Status.BOOKED, starts_at__gte=timezone.now())
    counts = sessions.aggregate(
        total=Count("id"),
        booked_ahead=Count("id", filter=ahead),
        first_booked=Min("starts_at", filter=ahead),
    )
    return SessionsHeld(
        booked_ahead=counts["booked_ahead"],
        first_booked=counts["first_booked"],
        kept=counts["total"] - counts["booked_ahead"],
    )
