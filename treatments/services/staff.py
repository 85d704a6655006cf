"""Staff set-up: accounts, roles and qualifications, working hours and exceptions.

Each write is atomic and raises DomainError with a message the manager can act on. Changing hours
never moves a booked session (see treatments.selectors.booked_outside_hours).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mesoclinic.access import Role
from mesoclinic.audit.services import Action, audit_log
from mesoclinic.errors import DomainError, unique_or_field_error

from ..booking_hooks import FreedTime, time_freed
from ..clinic_time import day_bounds, local_interval
from ..models import StaffProfile, WorkingException, WorkingHours
from ..selectors import clinic_zone, future_booked_count, sessions_booked_from_now
from .setup import REGISTERED, Hours, _check_hours

# --- staff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffDetails:
    first_name: str
    last_name: str
    email: str
    role: Role
    qualification: str
    registration_body: str
    registration_number: str
    bookable: bool


def _check_staff(details: StaffDetails) -> StaffDetails:
    """The rules a role and a qualification must keep; the form has checked each field."""
    role, qualification = details.role, details.qualification
    # A blank registration is no registration, whoever calls.
    body = details.registration_body.strip()
    number = details.registration_number.strip()
    label = StaffProfile.Qualification(qualification).label
    if qualification in REGISTERED:
        if not body:
            raise DomainError(
                f"A {label.lower()} must have a registration body (for example GMC or NMC).",
                field="registration_body",
            )
        if not number:
            raise DomainError(
                f"A {label.lower()} must have a registration number.",
                field="registration_number",
            )
    # The role is what they may see; the qualification is what they may do to a patient.
    if role == Role.PRACTITIONER and qualification not in REGISTERED:
        raise DomainError(
            "A practitioner is a doctor, nurse or independent prescriber. Choose the "
            "“Aesthetic therapist” role for a therapist.",
            field="qualification",
        )
    if role == Role.THERAPIST and qualification != StaffProfile.Qualification.AESTHETIC_THERAPIST:
        raise DomainError(
            "Someone with the aesthetic therapist role has the aesthetic therapist qualification.",
            field="qualification",
        )
    if role == Role.FRONT_DESK and qualification != StaffProfile.Qualification.NONE:
        raise DomainError(
            "Front-desk staff have no clinical qualification here; give them a clinical role "
            "to record one.",
            field="qualification",
        )
    if details.bookable and qualification == StaffProfile.Qualification.NONE:
        raise DomainError(
            "Only someone with a clinical qualification can be booked for sessions.",
            field="bookable",
        )
    return replace(details, registration_body=body, registration_number=number)


def _set_role(user: User, role: Role) -> None:
    # Roles are exclusive; any non-role group the user has stays untouched.
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]))
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from None


def _audit_staff(*, by: User | None, user: User, note: str) -> None:
    # One entry per change, naming what changed (never a value: no password, no registration).
    audit_log(actor=by, patient=None, action=Action.STAFF_CHANGE, obj=user, note=note)


def _role_of(user: User) -> str:
    names = {r.value for r in Role}
    return next((g.name for g in user.groups.all() if g.name in names), "")


def _managers_left(excluding_user_id: int) -> bool:
    return (
        User.objects.filter(is_active=True, groups__name=Role.MANAGER.value)
        .exclude(pk=excluding_user_id)
        .exists()
    )


@transaction.atomic
def staff_create(
    *, username: str, password: str, details: StaffDetails, by: User | None = None
) -> StaffProfile:
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"The username “{username}” is taken.", field="username")
    details = _check_staff(details)
    user = User(
        username=username,
        first_name=details.first_name,
        last_name=details.last_name,
        email=details.email,
    )
    _check_password(password, user)
    user.set_password(password)
    # Two managers creating one username at once both pass the check above: the unique
    # constraint decides, and the second reads the same message.
    with unique_or_field_error(
        constraint="username", message=f"The username “{username}” is taken.", field="username"
    ):
        user.save()
    _set_role(user, details.role)
    staff = StaffProfile.objects.create(
        user=user,
        qualification=details.qualification,
        registration_body=details.registration_body,
        registration_number=details.registration_number,
        bookable=details.bookable,
        # The manager knows this password: the person replaces it at their first sign-in.
        must_change_password=True,
    )
    _audit_staff(by=by, user=user, note=f"created: {details.role.value}")
    return staff


@transaction.atomic
def staff_update(
    *, staff: StaffProfile, details: StaffDetails, password: str = "", by: User | None = None
) -> StaffProfile:
    staff = (
        StaffProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=staff.pk)
    )
    details = _check_staff(details)
    user = staff.user
    changed = _staff_changes(staff=staff, details=details, password=password)
    was_manager = user.groups.filter(name=Role.MANAGER.value).exists()
    if was_manager and details.role != Role.MANAGER and not _managers_left(user.pk):
        raise DomainError(
            "This is the only clinic manager. Make someone else a manager first.", field="role"
        )
    if staff.bookable and not details.bookable:
        booked = future_booked_count(practitioner=staff)
        if booked:
            raise DomainError(
                f"{staff} has {booked} booked session{'s' if booked != 1 else ''} from now on. "
                "Move or cancel them before taking them off the calendar.",
                field="bookable",
            )
    user.first_name, user.last_name, user.email = (
        details.first_name,
        details.last_name,
        details.email,
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    user.save()
    _set_role(user, details.role)
    staff.qualification = details.qualification
    staff.registration_body = details.registration_body
    staff.registration_number = details.registration_number
    staff.bookable = details.bookable
    if password:
        staff.must_change_password = True
    staff.save()
    if changed:
        _audit_staff(by=by, user=user, note=", ".join(changed))
    return staff


def _staff_changes(*, staff: StaffProfile, details: StaffDetails, password: str) -> list[str]:
    """What an edit changes, by name: the audit says "role, password", never the values."""
    user = staff.user
    before = {
        "name": (user.first_name, user.last_name),
        "email": user.email,
        "role": _role_of(user),
        "qualification": staff.qualification,
        "registration": (staff.registration_body, staff.registration_number),
        "bookable": staff.bookable,
    }
    after = {
        "name": (details.first_name, details.last_name),
        "email": details.email,
        "role": details.role.value,
        "qualification": details.qualification,
        "registration": (details.registration_body, details.registration_number),
        "bookable": details.bookable,
    }
    changed = [name for name in before if before[name] != after[name]]
    return [*changed, "password"] if password else changed


@transaction.atomic
def staff_deactivate(*, staff: StaffProfile, by: User | None = None) -> StaffProfile:
    """Stop someone logging in and being booked. Their records and past sessions stay."""
    staff = (
        StaffProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=staff.pk)
    )
    user = staff.user
    if by is not None and by.pk == user.pk:
        raise DomainError("You cannot deactivate your own account.")
    if user.groups.filter(name=Role.MANAGER.value).exists() and not _managers_left(user.pk):
        raise DomainError("This is the only clinic manager. Make someone else a manager first.")
    booked = sessions_booked_from_now(practitioner=staff).order_by("starts_at")
    first_booked = booked.first()
    if first_booked is not None:
        count = booked.count()
        first = first_booked.starts_at.astimezone(clinic_zone())
        raise DomainError(
            f"{staff} has {count} booked session{'s' if count != 1 else ''} from now on "
            f"(the first on {first:%a %d %b %Y at %H:%M}). Move or cancel them in the "
            "calendar, then deactivate."
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    _audit_staff(by=by, user=user, note="deactivated")
    return staff


@transaction.atomic
def staff_reactivate(*, staff: StaffProfile, by: User | None = None) -> StaffProfile:
    user = staff.user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit_staff(by=by, user=user, note="reactivated")
    return staff


# --- working hours and exceptions -------------------------------------------------------------


@transaction.atomic
def working_hours_set(*, staff: StaffProfile, hours: Hours) -> list[WorkingHours]:
    """Replace a practitioner's weekly pattern (one period per working day)."""
    checked = _check_hours(hours, what="off")
    list(StaffProfile.objects.select_for_update(of=("self",)).filter(pk=staff.pk))
    WorkingHours.objects.filter(staff=staff).delete()
    return WorkingHours.objects.bulk_create(
        WorkingHours(staff=staff, weekday=day, starts=starts, ends=ends)
        for day, (starts, ends) in sorted(checked.items())
    )


@transaction.atomic
def working_exception_add(
    *,
    staff: StaffProfile,
    day: date,
    kind: str,
    starts: time | None = None,
    ends: time | None = None,
    note: str = "",
) -> WorkingException:
    if (starts is None) != (ends is None):
        raise DomainError("Give both a start and an end time, or neither.", field="starts")
    if kind == WorkingException.Kind.EXTRA and starts is None:
        raise DomainError("Extra hours need a start and an end time.", field="starts")
    if starts is not None and ends is not None and starts >= ends:
        raise DomainError(
            f"The start ({starts:%H:%M}) must be before the end ({ends:%H:%M}).", field="starts"
        )
    if day < timezone.now().astimezone(clinic_zone()).date():
        raise DomainError("That date has passed; exceptions are for today onwards.", field="date")
    exception = WorkingException.objects.create(
        staff=staff, date=day, kind=kind, starts=starts, ends=ends, note=note
    )
    if kind == WorkingException.Kind.EXTRA:
        _exception_time_freed(exception)
    return exception


@transaction.atomic
def working_exception_remove(*, exception: WorkingException) -> None:
    deleted, _ = WorkingException.objects.filter(pk=exception.pk).delete()
    if deleted and exception.kind == WorkingException.Kind.LEAVE:
        _exception_time_freed(exception)


def _exception_time_freed(exception: WorkingException) -> None:
    """Extra hours or a removed leave may make time bookable: the waiting list hears of it in
    this transaction (booking_hooks.freed_hooks); it asks the availability engine what is free."""
    zone = clinic_zone()
    if exception.starts is not None and exception.ends is not None:
        starts_at, ends_at = local_interval(exception.date, exception.starts, exception.ends, zone)
    else:
        starts_at, ends_at = day_bounds(exception.date, zone)
    time_freed(
        freed=FreedTime(practitioner_id=exception.staff_id, starts_at=starts_at, ends_at=ends_at)
    )
