"""Seed a benchmark clinic fast: practitioners, rooms, patients and a non-overlapping schedule.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesoclinic_bench \
        .venv/bin/python bench/seed.py --sessions 100000

Meant for an empty, migrated database (bench/week_view.py creates one per size). Everything is
written with bulk_create in batches; no service is called, so nothing is re-checked, and the
schedule is built so that PostgreSQL's exclusion constraints (no two active sessions of one
practitioner or in one room overlapping) hold by construction: each practitioner works in their
own room, and their day is packed in sequence, each session starting after the previous buffer.

The busy week (the current week, Monday to Sunday in the clinic's zone) is filled first, so it
is equally full at 1k and at 100k sessions; the rest of the sessions go into the days around it,
five past days for each future one, so that a large database is mostly history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from mesoclinic.access import Role  # noqa: E402
from patients.models import Patient  # noqa: E402
from treatments.models import (  # noqa: E402
    Clinic,
    OpeningHours,
    Room,
    Session,
    SessionType,
    StaffProfile,
    WorkingHours,
)

ZONE_NAME = "Europe/London"
OPENS, CLOSES = dt.time(8), dt.time(20)
BATCH = 5_000
FRONT_DESK_USERNAME = "bench_frontdesk"
FRONT_DESK_PASSWORD = "bench-front-desk-password"  # noqa: S105 (throwaway benchmark database)
# The session types the data migration seeds; created here if absent.
SESSION_TYPES = [("Face", 45, 15, True), ("Scalp", 30, 10, False), ("Body", 60, 15, True)]


def _names(text: str) -> list[str]:
    """Whitespace-separated names; an underscore stands for a space inside a name."""
    return [name.replace("_", " ") for name in text.split()]


FIRST_NAMES = _names(
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Harper Jessica Alice Emilia "
    "Sophie Phoebe Ruby Matilda Maya Millie Eva Chloe Layla Isabelle Luna Aria Zara Esme Anna "
    "Noah Oliver George Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie "
    "Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy Isaac Teddy Edward Joshua "
    "Mohammed Hugo Adam James Ezra Reggie Albie Joseph Louie Max Sebastian Elijah Jude Rory "
    "Ronan Ivan Zoe Maja Chiara Aisha Priya Amir Kwame Siobhan Niamh Aoife Dylan Rhys Carys"
)
LAST_NAMES = _names(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin "
    "Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott "
    "Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey Carter Cook "
    "Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Marshall Simpson Anderson Ellis Adams "
    "Wilkinson Ali Chapman Mason Stevens Russell Webb Lloyd Price Owen Murphy O'Brien Fisher "
    "Graham Dixon Palmer Holmes Rogers Stewart Barker Reid Gray Hussain Murray Fox Ahmed "
    "Smith-Jones de_Vries MacDonald Nowak Kowalski Rossi Ferrari Okafor Mensah Nguyen Chen Kaur"
)


@dataclass(frozen=True)
class Seeded:
    sessions: int
    patients: int
    practitioner_ids: list[int]
    busy_practitioner_id: int
    busy_week_monday: dt.date
    front_desk_user_id: int
    first_day: dt.date
    last_day: dt.date
    seconds: float


def _clinic(zone_name: str) -> None:
    Clinic.objects.update_or_create(pk=1, defaults={"name": "Bench Clinic", "timezone": zone_name})
    for day in range(7):
        OpeningHours.objects.update_or_create(
            weekday=day, defaults={"opens": OPENS, "closes": CLOSES}
        )


def _session_types() -> list[SessionType]:
    """The clinic's active session types (the data migration seeds them), or ours if none."""
    types = list(SessionType.objects.filter(active=True))
    if not types:
        types = SessionType.objects.bulk_create(
            SessionType(
                name=name,
                duration_minutes=duration,
                buffer_minutes=buffer,
                medical_only=medical_only,
            )
            for name, duration, buffer, medical_only in SESSION_TYPES
        )
    return types


def _front_desk() -> User:
    user = User.objects.filter(username=FRONT_DESK_USERNAME).first()
    if user is None:
        user = User.objects.create_user(
            FRONT_DESK_USERNAME,
            email="frontdesk@bench.test",
            password=FRONT_DESK_PASSWORD,
            first_name="Fran",
            last_name="Desk",
        )
    user.groups.add(Group.objects.get_or_create(name=Role.FRONT_DESK.value)[0])
    StaffProfile.objects.get_or_create(user=user)
    return user


def _practitioners(count: int, rng: random.Random) -> list[tuple[StaffProfile, Room]]:
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(
            username=f"bench_practitioner_{i + 1}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            email=f"practitioner{i + 1}@bench.test",
            password=unusable,
        )
        for i in range(count)
    )
    group = Group.objects.get_or_create(name=Role.PRACTITIONER.value)[0]
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=group.pk) for user in users
    )
    profiles = StaffProfile.objects.bulk_create(
        StaffProfile(
            user=user,
            qualification=StaffProfile.Qualification.DOCTOR,
            registration_body="GMC",
            registration_number=f"GMC{9_000_000 + i}",
            bookable=True,
        )
        for i, user in enumerate(users)
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=profile, weekday=day, starts=OPENS, ends=CLOSES)
        for profile in profiles
        for day in range(7)
    )
    rooms = Room.objects.bulk_create(Room(name=f"Bench room {i + 1}") for i in range(count))
    return list(zip(profiles, rooms, strict=True))


def _patients(count: int, rng: random.Random) -> list[int]:
    ids: list[int] = []
    start = dt.date(1950, 1, 1).toordinal()
    span = dt.date(2006, 12, 31).toordinal() - start
    for offset in range(0, count, BATCH):
        batch = []
        for n in range(offset, min(offset + BATCH, count)):
            # Unique, valid-looking UK mobile numbers from Ofcom's drama range and beyond.
            phone = f"+44 77{n // 1_000_000:02d} {n % 1_000_000:06d}"
            batch.append(
                Patient(
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    date_of_birth=dt.date.fromordinal(start + rng.randrange(span)),
                    email=f"patient{n}@bench.test",
                    phone=phone,
                    # E.164, as patients.models.phone_digits stores it.
                    phone_digits="+" + "".join(c for c in phone if c.isdigit()),
                    email_reminders_consent=rng.random() < 0.8,
                )
            )
        ids.extend(p.pk for p in Patient.objects.bulk_create(batch))
    return ids


def schedule_days(monday: dt.date):
    """The busy week first, then outwards: five past days for every future day."""
    yield from (monday + dt.timedelta(days=i) for i in range(7))
    past, future = monday - dt.timedelta(days=1), monday + dt.timedelta(days=7)
    while True:
        for _ in range(5):
            yield past
            past -= dt.timedelta(days=1)
        yield future
        future += dt.timedelta(days=1)


def _sessions(
    *,
    total: int,
    staff_rooms: list[tuple[StaffProfile, Room]],
    patient_ids: list[int],
    types: list[SessionType],
    monday: dt.date,
    zone: zoneinfo.ZoneInfo,
    rng: random.Random,
) -> tuple[int, dt.date, dt.date]:
    now = dt.datetime.now(dt.UTC)
    made = 0
    first_day = last_day = monday
    batch: list[Session] = []
    # Each patient sees one practitioner, whose day is sequential: a patient is never in two
    # sessions at once (exclusion constraint session_no_overlap_patient).
    pools = [patient_ids[i :: len(staff_rooms)] or patient_ids for i in range(len(staff_rooms))]
    for day in schedule_days(monday):
        if made >= total:
            break
        first_day, last_day = min(first_day, day), max(last_day, day)
        closes = dt.datetime.combine(day, CLOSES)
        for index, (staff, room) in enumerate(staff_rooms):
            # Each practitioner's day is packed in sequence from opening time: a session may
            # start when the previous one's buffer ends, so nothing overlaps. The first
            # practitioner is the busiest (no gaps); the others leave some gaps.
            cursor = dt.datetime.combine(day, OPENS)
            while made < total:
                if index:
                    cursor += dt.timedelta(minutes=rng.choice((0, 0, 0, 15, 30, 60)))
                session_type = rng.choice(types)
                ends_local = cursor + session_type.duration
                blocked_local = ends_local + session_type.buffer
                if blocked_local > closes:
                    break
                starts = cursor.replace(tzinfo=zone).astimezone(dt.UTC)
                ends = ends_local.replace(tzinfo=zone).astimezone(dt.UTC)
                session = Session(
                    patient_id=rng.choice(pools[index]),
                    session_type=session_type,
                    practitioner=staff,
                    room=room,
                    starts_at=starts,
                    ends_at=ends,
                    blocked_until=blocked_local.replace(tzinfo=zone).astimezone(dt.UTC),
                )
                roll = rng.random()
                if roll < 0.08:
                    session.status = Session.Status.CANCELLED
                    session.cancelled_at = starts - dt.timedelta(days=2)
                    session.cancel_reason = "Patient unwell"
                elif ends < now:
                    if roll < 0.12:
                        session.status = Session.Status.NO_SHOW
                    else:
                        session.status = Session.Status.COMPLETED
                        session.arrived_at = starts - dt.timedelta(minutes=5)
                        session.completed_at = ends
                batch.append(session)
                made += 1
                cursor = blocked_local
                if len(batch) >= BATCH:
                    Session.objects.bulk_create(batch)
                    batch = []
    if batch:
        Session.objects.bulk_create(batch)
    return made, first_day, last_day


def seed(
    *,
    sessions: int,
    patients: int | None = None,
    practitioners: int = 10,
    zone_name: str = ZONE_NAME,
    rng_seed: int = 20261121,
    today: dt.date | None = None,
) -> Seeded:
    """Seed an empty, migrated database; returns what the benchmark needs to address it."""
    if Session.objects.exists() or User.objects.filter(username__startswith="bench_").exists():
        raise SystemExit("bench/seed.py: the database is already seeded; use a fresh one.")
    began = time.perf_counter()
    rng = random.Random(rng_seed)
    zone = zoneinfo.ZoneInfo(zone_name)
    today = today or dt.datetime.now(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    patients = patients if patients is not None else max(200, sessions // 5)
    with transaction.atomic():
        _clinic(zone_name)
        types = _session_types()
        front_desk = _front_desk()
        staff_rooms = _practitioners(practitioners, rng)
        patient_ids = _patients(patients, rng)
        made, first_day, last_day = _sessions(
            total=sessions,
            staff_rooms=staff_rooms,
            patient_ids=patient_ids,
            types=types,
            monday=monday,
            zone=zone,
            rng=rng,
        )
    # Fresh statistics, as autovacuum would have them on a database that grew slowly.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Seeded(
        sessions=made,
        patients=len(patient_ids),
        practitioner_ids=[staff.pk for staff, _ in staff_rooms],
        busy_practitioner_id=staff_rooms[0][0].pk,
        busy_week_monday=monday,
        front_desk_user_id=front_desk.pk,
        first_day=first_day,
        last_day=last_day,
        seconds=time.perf_counter() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--patients", type=int, default=None, help="default: sessions / 5")
    parser.add_argument("--practitioners", type=int, default=10)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/seed.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    result = seed(sessions=args.sessions, patients=args.patients, practitioners=args.practitioners)
    print(
        f"seeded {result.sessions} sessions ({result.first_day} to {result.last_day}), "
        f"{result.patients} patients, {len(result.practitioner_ids)} practitioners "
        f"in {result.seconds:.1f} s; busiest practitioner id {result.busy_practitioner_id}, "
        f"busy week from {result.busy_week_monday}; login {FRONT_DESK_USERNAME}"
    )


if __name__ == "__main__":
    main()
