"""`make run`'s demo clinic: staff, rooms, hours, 40 patients and two weeks of sessions.

It shows itself: sessions completed in the last days have their aftercare emails, a few of the
older ones started a course whose next session is not booked yet (so the follow-up nudge is due),
and one patient cancelled an upcoming session through the email link (a notice on the desk's
Today page). The first dispatcher run of `make run` writes the due ones to var/mail/.

Idempotent: every object is looked up before it is created, and sessions are only generated for
a practitioner's day that has none yet, so a second run on the same day creates nothing. Names
and schedules come from fixed seeds, so every clone sees the same clinic.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from base64 import b32encode
from collections import defaultdict
from typing import Any, TypedDict

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mesoclinic.access import Role
from mesoclinic.errors import DomainError
from patients.models import Patient
from patients.services import patient_create
from treatments.accounts.selectors import second_factor_enrolled, second_factor_required
from treatments.booking_hooks import session_changed
from treatments.courses.models import Course, CourseStep, Protocol
from treatments.courses.services import course_create
from treatments.messaging import conf
from treatments.messaging.course_messages import messages_on_course_session_change
from treatments.messaging.models import PatientCancellation
from treatments.models import (
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingHours,
)
from treatments.products.models import Ingredient, Lot, Product
from treatments.selectors import availability_for, clinic_zone
from treatments.services.booking import session_book, session_cancel
from treatments.waitlist.models import Entry as WaitlistEntry
from treatments.waitlist.services import Wish
from treatments.waitlist.services import entry_add as waitlist_entry_add

DEMO_PASSWORD = "mesoclinic-demo"  # noqa: S105 (documented in the README's demo table)
# Clinical staff and the manager need a second factor. The demo gives each of them an
# authenticator app with this one published key (README, "Demo logins"); `manage.py demo_codes`
# prints the current code. A demo-only secret: never use it for a real account.
DEMO_TOTP_KEY = b"mesoclinic-demo-2fa!".hex()
CLINIC_NAME = "Mesoclinic Demo Clinic"
SEED = 20261121
Q = StaffProfile.Qualification
THERAPY = Q.AESTHETIC_THERAPIST

MON_FRI = {day: (dt.time(9), dt.time(17)) for day in range(5)}
TUE_SAT = {day: (dt.time(10), dt.time(18)) for day in range(1, 5)} | {5: (dt.time(9), dt.time(17))}
MWF_SAT = {day: (dt.time(9), dt.time(19)) for day in (0, 2, 4)} | {5: (dt.time(9), dt.time(13))}

# username, first, last, role, qualification, registration body, number, bookable, weekly hours
STAFF: list[tuple[str, str, str, Role, str, str, str, bool, dict]] = [
    ("drsmith", "Alex", "Smith", Role.PRACTITIONER, Q.DOCTOR, "GMC", "7123456", True, MON_FRI),
    ("nursejones", "Bethan", "Jones", Role.PRACTITIONER, Q.NURSE, "NMC", "12A3456E", True, TUE_SAT),
    ("therapist", "Chloe", "Taylor", Role.THERAPIST, THERAPY, "", "", True, MWF_SAT),
    ("frontdesk", "Dana", "Evans", Role.FRONT_DESK, Q.NONE, "", "", False, {}),
    ("manager", "Morgan", "Hughes", Role.MANAGER, Q.NONE, "", "", False, {}),
]  # fmt: skip
ROOMS = ["Treatment room 1", "Treatment room 2"]
SESSION_TYPES = [
    ("Face", 45, 15, True),
    ("Scalp", 30, 10, False),
    ("Body", 60, 15, True),
    ("Face, neck and décolletage", 60, 15, True),
]
TYPE_WEIGHTS = {"Face": 5, "Scalp": 2, "Body": 2, "Face, neck and décolletage": 2}
OPENING = {day: (dt.time(9), dt.time(19)) for day in range(5)} | {5: (dt.time(9), dt.time(17))}

FIRST_NAMES = [
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Sophia", "Grace", "Lily", "Freya", "Emily",
    "Ella", "Poppy", "Chloe", "Evie", "Harper", "Zara", "Priya", "Aisha", "Niamh", "Sian",
    "James", "Oliver", "Noah", "Arjun", "Callum", "Rhys", "Tomasz", "Leo", "Samir", "Ewan",
]  # fmt: skip
LAST_NAMES = [
    "Williams", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Roberts", "Johnson", "Walker",
    "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Green", "Patel", "Khan",
    "Lewis", "Harris", "Clarke", "Murphy", "Kowalski", "Begum", "O'Brien", "Campbell", "Reid",
]  # fmt: skip
CANCEL_REASONS = [
    "Patient unwell",
    "Patient asked to rebook: work commitment",
    "Started a course of antibiotics",
    "Clinic cancelled: practitioner unwell",
]
PATIENTS = 40
DAYS_EACH_SIDE = 7
STEP = dt.timedelta(minutes=15)
# Completed sessions this recent get their aftercare emails (24 h and 48 h after the end).
AFTERCARE_DAYS = dt.timedelta(days=3)
# A weekly course for the demo (the migration's protocols space sessions 7 to 21 days apart, more
# than the demo's week of history): name, indication, sessions, interval min and max days,
# maintenance days, the session types it is started from. Its first step is a session completed
# more than `min` days ago, so the second step's window is open and its nudge is due at once.
PROTOCOLS = [
    (
        "Skin revitalisation (weekly)",
        Protocol.Indication.SKIN,
        4,
        5,
        14,
        120,
        ("Face", "Face, neck and décolletage"),
    ),
]
DEMO_COURSES = 3
PATIENT_CANCEL_REASON = "Cancelled by the patient through the email link."


def protocol_window(protocol: Protocol, day: dt.date) -> tuple[dt.date, dt.date]:
    """The local days the step after one held on `day` may take place (as Course.step_window)."""
    return (
        day + dt.timedelta(days=protocol.interval_min_days),
        day + dt.timedelta(days=protocol.interval_max_days),
    )


def _ceil(moment: dt.datetime) -> dt.datetime:
    """Round up to the next quarter hour: appointments start on the quarter."""
    minutes = moment.minute % 15
    if minutes or moment.second or moment.microsecond:
        moment += dt.timedelta(minutes=15 - minutes)
    return moment.replace(second=0, microsecond=0)


class _DemoPatient(TypedDict):
    first_name: str
    last_name: str
    date_of_birth: dt.date
    email: str
    phone: str
    email_reminders_consent: bool
    marketing_consent: bool


class Command(BaseCommand):
    help = (
        "Load the demo clinic (idempotent): staff, rooms, hours, patients, two weeks of sessions."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.created: dict[str, int] = defaultdict(int)
        with transaction.atomic():
            self._clinic()
            rooms = self._rooms()
            types = self._session_types()
            staff = self._staff()
            self._second_factors(staff)
            self._products(received_by=staff["manager"].user)
            # One log line per registered patient is noise here.
            quiet = logging.getLogger("patients.services")
            level = quiet.level
            quiet.setLevel(logging.WARNING)
            try:
                patients = self._patients(created_by=staff["frontdesk"].user)
            finally:
                quiet.setLevel(level)
        self._sessions(
            practitioners=[s for s in staff.values() if s.bookable],
            rooms=rooms,
            types=types,
            patients=patients,
            booked_by=staff["frontdesk"].user,
        )
        self._courses(by=staff["manager"].user)
        self._patient_cancellation()
        self._waitlist(patients=patients, types=types, added_by=staff["frontdesk"].user)
        self._report()

    def _waitlist(
        self, *, patients: list[Patient], types: dict[str, SessionType], added_by: User
    ) -> None:
        """Two patients wait for an earlier Face session: cancel one in the calendar and they
        are offered it (the emails land in var/mail/)."""
        face = types.get("Face")
        if face is None:
            return
        today = timezone.now().astimezone(clinic_zone()).date()
        for patient in patients[-2:]:
            if patient.booking_hold or WaitlistEntry.objects.filter(patient=patient).exists():
                continue
            wish = Wish(
                session_type=face,
                practitioner=None,
                earliest=today,
                latest=today + dt.timedelta(days=14),
            )
            try:
                waitlist_entry_add(patient=patient, wish=wish, by=added_by)
            except DomainError:
                continue  # e.g. no email address: nothing the demo needs
            self.created["waiting-list entries"] += 1

    # --- the clinic and its set-up ------------------------------------------------------------

    def _products(self, *, received_by: User) -> None:
        """Two registered mesotherapy products with lots, so a session record can be tried."""
        today = timezone.localdate(timezone=clinic_zone())
        demo = [
            (
                "Hyaluronic revitaliser (demo)",
                "Demo Laboratories",
                "Skin hydration and fine lines",
                "CE 0123",
                "III",
                "DEMO-HA-001",
                ["hyaluronic acid", "vitamin c", "glycine"],
                [("HA24-0317", 400, 50), ("HA24-0512", 20, 10)],
            ),
            (
                "Hair-loss cocktail (demo)",
                "Demo Laboratories",
                "Androgenetic alopecia, diffuse hair loss",
                "CE 0123",
                "IIb",
                "DEMO-HL-002",
                ["biotin", "dexpanthenol", "lidocaine"],
                [("HL25-0101", 180, 30)],
            ),
        ]
        for name, maker, indication, body, klass, number, ingredients, lots in demo:
            product, made = Product.objects.get_or_create(
                name=name,
                defaults={
                    "manufacturer": maker,
                    "indications": indication,
                    "registration_body": body,
                    "device_class": klass,
                    "registration_number": number,
                },
            )
            self.created["products"] += made
            for position, ingredient in enumerate(ingredients):
                Ingredient.objects.get_or_create(
                    product=product, name=ingredient, defaults={"position": position}
                )
            for lot_number, days_to_expiry, ml in lots:
                _, made = Lot.objects.get_or_create(
                    product=product,
                    lot_number=lot_number,
                    defaults={
                        "expiry_date": today + dt.timedelta(days=days_to_expiry),
                        "received_on": today - dt.timedelta(days=30),
                        "quantity_received_ml": ml,
                        "quantity_remaining_ml": ml,
                        "received_by": received_by,
                    },
                )
                self.created["product lots"] += made

    def _clinic(self) -> None:
        clinic, created = Clinic.objects.get_or_create(
            pk=1, defaults={"name": CLINIC_NAME, "timezone": "Europe/London"}
        )
        # A clinic still carrying the model's default name is unconfigured: make it the demo
        # clinic. One a manager has named is left alone.
        if created or clinic.name == Clinic._meta.get_field("name").default:
            clinic.name = CLINIC_NAME
            clinic.timezone = "Europe/London"
            clinic.address = "12 Harley Row\nLondon W1G 9QD"
            clinic.phone = "+44 20 7946 0000"
            clinic.email = "hello@mesoclinic-demo.example.test"
            clinic.save()
            self.created["clinic"] += 1
        if not OpeningHours.objects.exists():
            OpeningHours.objects.bulk_create(
                OpeningHours(weekday=day, opens=opens, closes=closes)
                for day, (opens, closes) in OPENING.items()
            )
            self.created["opening hours"] += len(OPENING)

    def _rooms(self) -> list[Room]:
        rooms = []
        for name in ROOMS:
            room, created = Room.objects.get_or_create(name=name)
            self.created["rooms"] += int(created)
            rooms.append(room)
        return [room for room in rooms if room.active]

    def _session_types(self) -> dict[str, SessionType]:
        types = {}
        for name, duration, buffer, medical_only in SESSION_TYPES:
            session_type, created = SessionType.objects.get_or_create(
                name=name,
                defaults={
                    "duration_minutes": duration,
                    "buffer_minutes": buffer,
                    "medical_only": medical_only,
                },
            )
            self.created["session types"] += int(created)
            if session_type.active:
                types[name] = session_type
        return types

    def _staff(self) -> dict[str, StaffProfile]:
        profiles = {}
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
        for username, first, last, role, qual, body, number, bookable, hours in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@mesoclinic-demo.example.test",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                self.created["staff"] += 1
            user.groups.add(groups[role])
            profile, _ = StaffProfile.objects.get_or_create(
                user=user,
                defaults={
                    "qualification": qual,
                    "registration_body": body,
                    "registration_number": number,
                    "bookable": bookable,
                },
            )
            if hours and not profile.working_hours.exists():
                WorkingHours.objects.bulk_create(
                    WorkingHours(staff=profile, weekday=day, starts=starts, ends=ends)
                    for day, (starts, ends) in hours.items()
                )
            profiles[username] = profile
        return profiles

    def _second_factors(self, staff: dict[str, StaffProfile]) -> None:
        for profile in staff.values():
            user = profile.user
            # A device the person set up themselves is left alone.
            if not second_factor_required(user=user) or second_factor_enrolled(user=user):
                continue
            TOTPDevice.objects.create(
                user=user, name="Demo authenticator", key=DEMO_TOTP_KEY, confirmed=True
            )
            self.created["demo authenticator apps"] += 1

    def _patients(self, *, created_by: User) -> list[Patient]:
        rng = random.Random(SEED)
        wanted: list[_DemoPatient] = []
        for i in range(PATIENTS):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            slug = f"{first}.{last}".lower().replace("'", "")
            wanted.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dt.date(1958, 1, 1) + dt.timedelta(days=rng.randrange(17000)),
                    "email": f"{slug}.{i + 1}@example.test",
                    # Ofcom's drama range: numbers that never reach a real phone.
                    "phone": f"+44 7700 900{i + 1:03d}",
                    "email_reminders_consent": rng.random() < 0.9,
                    "marketing_consent": rng.random() < 0.5,
                }
            )
        existing = {
            p.email: p for p in Patient.objects.filter(email__in=[w["email"] for w in wanted])
        }
        patients = []
        for fields in wanted:
            patient = existing.get(fields["email"])
            if patient is None:
                patient = patient_create(
                    **fields, created_by=created_by, confirm_duplicate=True, source="demo data"
                )
                self.created["patients"] += 1
            patients.append(patient)
        return patients

    # --- sessions -----------------------------------------------------------------------------

    def _sessions(
        self,
        *,
        practitioners: list[StaffProfile],
        rooms: list[Room],
        types: dict[str, SessionType],
        patients: list[Patient],
        booked_by: User,
    ) -> None:
        if not (practitioners and rooms and types and patients):
            return
        zone = clinic_zone()
        now = timezone.now()
        today = now.astimezone(zone).date()
        first_day = today - dt.timedelta(days=DAYS_EACH_SIDE)
        days = 2 * DAYS_EACH_SIDE + 1
        available = availability_for(
            staff_ids=[p.pk for p in practitioners], first_day=first_day, days=days, zone=zone
        )
        window_start = min((iv[0][0] for iv in available.values() if iv), default=now)
        window_end = max((iv[-1][1] for iv in available.values() if iv), default=now)
        # Everything already holding time in the window, so new sessions fit around it.
        busy: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        done_days: set[tuple[int, dt.date]] = set()
        for s in Session.objects.filter(
            starts_at__lt=window_end + dt.timedelta(days=1),
            blocked_until__gt=window_start - dt.timedelta(days=1),
        ):
            done_days.add((s.practitioner_id, s.starts_at.astimezone(zone).date()))
            if s.is_active:
                busy[("staff", s.practitioner_id)].append((s.starts_at, s.blocked_until))
                busy[("room", s.room_id)].append((s.starts_at, s.blocked_until))

        def free(key: tuple[str, int], start: dt.datetime, end: dt.datetime) -> bool:
            return all(end <= b_start or start >= b_end for b_start, b_end in busy[key])

        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            # One session per patient per day, whoever the practitioner.
            seen_today: set[int] = set()
            for practitioner in practitioners:
                if (practitioner.pk, day) in done_days:
                    continue
                rng = random.Random(f"{SEED}-{day.isoformat()}-{practitioner.user.username}")
                allowed = [
                    t for t in types.values() if practitioner.is_medical or not t.medical_only
                ]
                if not allowed:
                    continue
                weights = [TYPE_WEIGHTS.get(t.name, 1) for t in allowed]
                for start, end in available.get((practitioner.pk, day), []):
                    moment = _ceil(start)
                    while moment < end:
                        if rng.random() < 0.3:  # a gap: the calendar should not be solid
                            moment += 2 * STEP
                            continue
                        session_type = rng.choices(allowed, weights)[0]
                        ends_at = moment + session_type.duration
                        blocked = ends_at + session_type.buffer
                        room = next(
                            (r for r in rooms if free(("room", r.pk), moment, blocked)), None
                        )
                        if (
                            ends_at > end
                            or room is None
                            or not free(("staff", practitioner.pk), moment, blocked)
                        ):
                            moment += STEP
                            continue
                        candidates = [p for p in patients if p.pk not in seen_today]
                        if not candidates:
                            break
                        patient = rng.choice(candidates)
                        made = self._session(
                            rng=rng,
                            now=now,
                            patient=patient,
                            session_type=session_type,
                            practitioner=practitioner,
                            room=room,
                            starts_at=moment,
                            booked_by=booked_by,
                        )
                        if made:
                            seen_today.add(patient.pk)
                            if made.is_active:
                                busy[("staff", practitioner.pk)].append((moment, blocked))
                                busy[("room", room.pk)].append((moment, blocked))
                        moment = _ceil(blocked)

    def _session(
        self,
        *,
        rng: random.Random,
        now: dt.datetime,
        patient: Patient,
        session_type: SessionType,
        practitioner: StaffProfile,
        room: Room,
        starts_at: dt.datetime,
        booked_by: User,
    ) -> Session | None:
        if starts_at > now:
            try:
                session = session_book(
                    patient=patient,
                    session_type=session_type,
                    practitioner=practitioner,
                    room=room,
                    starts_at=starts_at,
                    booked_by=booked_by,
                )
            except DomainError as err:
                self.stderr.write(f"skipped a demo booking: {err.message}")
                return None
            self.created["sessions booked"] += 1
            return session
        # The booking service rightly refuses the past, so history is written directly, after
        # the same overlap checks (the `busy` lists) the service would make.
        ends_at = starts_at + session_type.duration
        fields: dict[str, Any] = {}
        if ends_at > now:
            status = Session.Status.ARRIVED
            fields["arrived_at"] = starts_at - dt.timedelta(minutes=5)
        else:
            status = rng.choices(
                [Session.Status.COMPLETED, Session.Status.NO_SHOW, Session.Status.CANCELLED],
                [80, 8, 12],
            )[0]
            if status == Session.Status.COMPLETED:
                fields["arrived_at"] = starts_at - dt.timedelta(minutes=5)
                fields["completed_at"] = ends_at
            elif status == Session.Status.CANCELLED:
                fields["cancelled_at"] = starts_at - dt.timedelta(days=1)
                fields["cancel_reason"] = rng.choice(CANCEL_REASONS)
        session = Session.objects.create(
            patient=patient,
            session_type=session_type,
            practitioner=practitioner,
            room=room,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=ends_at + session_type.buffer,
            status=status,
            booked_by=booked_by,
            **fields,
        )
        self.created[f"past sessions ({session.get_status_display().lower()})"] += 1
        ended = session.completed_at
        if (
            status == Session.Status.COMPLETED
            and ended is not None
            and ended >= now - AFTERCARE_DAYS
        ):
            # As when the desk completes a session: its aftercare emails are scheduled, and
            # those already due go out at the first dispatcher run of `make run`.
            with transaction.atomic():
                session_changed(session=session, change="completed")
            self.created["completed sessions with aftercare emails"] += 1
        return session

    # --- what the demo shows at once ---------------------------------------------------------

    def _courses(self, *, by: User) -> None:
        """Courses whose first session was completed days ago and whose second is not booked:
        their follow-up nudges are due (for patients who accept nudges)."""
        protocols: dict[str, Protocol] = {}
        for name, indication, count, low, high, maintenance, type_names in PROTOCOLS:
            protocol, created = Protocol.objects.get_or_create(
                name=name,
                defaults={
                    "indication": indication,
                    "sessions_count": count,
                    "interval_min_days": low,
                    "interval_max_days": high,
                    "maintenance_interval_days": maintenance,
                    "default_session_type": SessionType.objects.filter(name=type_names[0]).first(),
                },
            )
            self.created["protocols"] += int(created)
            if protocol.active:
                protocols.update(dict.fromkeys(type_names, protocol))
        if Course.objects.exists() or not protocols:
            return  # the demo's courses exist (or the clinic has its own)
        now = timezone.now()
        zone = clinic_zone()
        today = now.astimezone(zone).date()
        candidates = (
            Session.objects.filter(
                status=Session.Status.COMPLETED,
                session_type__name__in=list(protocols),
                patient__marketing_consent=True,
                patient__email__gt="",
            )
            .select_related("patient", "session_type", "practitioner__user", "room")
            .order_by("starts_at", "id")
        )
        patients: set[int] = set()
        for session in candidates:
            protocol = protocols[session.session_type.name]
            opens, closes = protocol_window(protocol, session.starts_at.astimezone(zone).date())
            # A window that opened before today: the nudge is due at once, not at 09:00.
            if not opens < today <= closes or session.patient_id in patients:
                continue
            with transaction.atomic():
                course = course_create(
                    patient=session.patient,
                    protocol=protocol,
                    practitioner=session.practitioner,
                    session_type=session.session_type,
                    plan_reference="Demo course",
                    by=by,
                )
                CourseStep.objects.filter(course=course, number=1).update(session=session)
                # As when the desk completes a course's session: the next step's nudges.
                messages_on_course_session_change(session=session, change="completed", now=now)
            patients.add(session.patient_id)
            self.created["courses with a follow-up nudge due"] += 1
            if len(patients) == DEMO_COURSES:
                return

    def _patient_cancellation(self) -> None:
        """One upcoming session the patient has just cancelled through the email's link."""
        if PatientCancellation.objects.exists():
            return
        now = timezone.now()
        session = (
            Session.objects.filter(
                status=Session.Status.BOOKED, starts_at__gt=now + dt.timedelta(days=2)
            )
            .select_related("patient")
            .order_by("starts_at", "id")
            .first()
        )
        if session is None:
            return
        with transaction.atomic():
            cancelled = session_cancel(session=session, reason=PATIENT_CANCEL_REASON)
            PatientCancellation.objects.create(
                session=session, cancelled_at=cancelled.cancelled_at or now
            )
        self.created["sessions cancelled by the patient by email link"] += 1

    def _report(self) -> None:
        if any(self.created.values()):
            made = ", ".join(
                f"{count} {what}" for what, count in sorted(self.created.items()) if count
            )
            self.stdout.write(f"Demo clinic loaded: created {made}.")
        else:
            self.stdout.write("Demo clinic already loaded: nothing to create.")
        self.stdout.write(f"\nOpen {conf.site_url()}/ and log in as:")
        for username, first, last, role, *_ in STAFF:
            self.stdout.write(f"  {username:<11} {role.value:<20} ({first} {last})")
        self.stdout.write(f"Password for all: {DEMO_PASSWORD}")
        self.stdout.write(
            "Everyone but the front desk then gives a two-factor code: run "
            "`.venv/bin/python manage.py demo_codes` (or `make demo-codes`) to see the current "
            f"ones, or add the key {b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()} to an "
            "authenticator app."
        )
