"""Peak memory of the subject-access export for a heavy patient: 200 sessions, 100 photos.

    .venv/bin/python bench/export_memory.py [--sessions 200] [--photos 100] [--photo-kb 1000]

Builds a throwaway SQLite database and media folder in a temporary directory (migrated, then
seeded with one patient: every session completed with a signed record, a lot used, three
messages, a reaction every fourth session, a consultation and a screening every twentieth; the
photos are real JPEG files of about --photo-kb each), then runs the export in a fresh child
process, reading the ZIP back in 64 KB chunks as the HTTP response does. The child reports its
peak resident memory (ru_maxrss) after Django and WeasyPrint are loaded (baseline) and after
the export (peak). Goal: peak under 150 MB while the photos alone are larger than that.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 150


def _setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
    import django

    django.setup()


def _jpeg(kb: int) -> bytes:
    from PIL import Image

    side = 400
    while True:
        out = io.BytesIO()
        Image.effect_noise((side, side * 3 // 4), 80).convert("RGB").save(
            out, format="JPEG", quality=92
        )
        if out.tell() >= kb * 1024 or side > 6000:
            return out.getvalue()
        side = int(side * 1.4)


def seed(sessions: int, photos: int, photo_kb: int) -> int:
    _setup()
    import datetime as dt
    from decimal import Decimal

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from patients.models import Patient
    from treatments.clinical.models import (
        ClinicalPhoto,
        Consultation,
        Reaction,
        Screening,
        SessionRecord,
    )
    from treatments.messaging.models import Kind, OutboxMessage, Status
    from treatments.models import Clinic, Room, Session, SessionType, StaffProfile
    from treatments.products.models import Lot, LotUsage, Product
    from treatments.tests.factories import StaffProfileFactory, UserFactory

    Clinic.objects.update_or_create(pk=1, defaults={"name": "Bench Clinic"})
    room = Room.objects.create(name="Bench room")
    face, _ = SessionType.objects.get_or_create(
        name="Bench face", defaults={"duration_minutes": 45}
    )
    doctor = StaffProfileFactory(
        user=UserFactory(username="benchdoctor", first_name="Bench", last_name="Doctor"),
        qualification=StaffProfile.Qualification.DOCTOR,
    )
    user = doctor.user
    patient = Patient.objects.create(
        first_name="Heavy", last_name="Patient", date_of_birth=dt.date(1980, 5, 1)
    )
    product = Product.objects.create(
        name="Bench cocktail", manufacturer="Bench", registration_body="MHRA"
    )
    lot = Lot.objects.create(
        product=product,
        lot_number="B1",
        expiry_date=dt.date(2099, 1, 1),
        received_on=dt.date(2020, 1, 1),
        quantity_received_ml=Decimal("9999"),
        quantity_remaining_ml=Decimal("9999"),
    )
    start = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    rows = Session.objects.bulk_create(
        Session(
            patient=patient,
            session_type=face,
            practitioner=doctor,
            room=room,
            starts_at=start + dt.timedelta(days=i),
            ends_at=start + dt.timedelta(days=i, minutes=45),
            blocked_until=start + dt.timedelta(days=i, minutes=60),
            completed_at=start + dt.timedelta(days=i, minutes=45),
            status=Session.Status.COMPLETED,
        )
        for i in range(sessions)
    )
    SessionRecord.objects.bulk_create(
        SessionRecord(
            session=s,
            patient=patient,
            author=user,
            technique="syringe",
            depth="superficial",
            zones=["cheeks", "forehead"],
            notes="Treated as planned; patient comfortable throughout. " * 4,
            signed_at=s.completed_at,
            signed_by=user,
        )
        for s in rows
    )
    LotUsage.objects.bulk_create(
        LotUsage(lot=lot, session=s, volume_ml=Decimal("2.5"), recorded_by=user) for s in rows
    )
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            kind=kind,
            patient=patient,
            session=s,
            due_at=s.starts_at,
            expires_at=s.ends_at,
            status=Status.SENT,
            subject=f"{kind} message",
        )
        for s in rows
        for kind in (Kind.CONFIRMATION, Kind.REMINDER, Kind.AFTERCARE_24H)
    )
    Reaction.objects.bulk_create(
        Reaction(
            session=s,
            patient=patient,
            type="bruising",
            severity="mild",
            onset=s.ends_at,
            source="practitioner",
            reported_by=user,
        )
        for s in rows[::4]
    )
    for s in rows[::20]:
        Screening.objects.create(
            patient=patient, taken_by=user, taken_at=s.starts_at, valid_until=s.ends_at
        )
        Consultation.objects.create(
            patient=patient,
            practitioner=user,
            skin_type="dry",
            fitzpatrick=2,
            hydration="low",
            elasticity="low",
            sensitivity="low",
            concerns=["rejuvenation"],
            goals="Hydration and glow. " * 10,
        )
    image = _jpeg(photo_kb)
    for i in range(photos):
        name = default_storage.save(f"clinical/photos/bench-{i}.jpg", ContentFile(image))
        ClinicalPhoto.objects.create(
            patient=patient,
            session=rows[i % len(rows)],
            stage="before",
            zone="cheeks",
            view="frontal",
            image=name,
            width=1,
            height=1,
            uploaded_by=user,
        )
    print(json.dumps({"patient": patient.pk, "photo_bytes": len(image) * photos}))
    return 0


def export(patient_id: int) -> int:
    import resource

    _setup()
    import weasyprint  # noqa: F401 (loaded before the baseline, as in a serving process)

    from patients.models import Patient
    from treatments.dataprotection.services import patient_export

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    patient = Patient.objects.get(pk=patient_id)
    baseline = rss_mb()
    started = time.perf_counter()
    archive = patient_export(patient=patient, by=None)
    size = 0
    while chunk := archive.read(64 * 1024):
        size += len(chunk)
    archive.close()
    print(
        json.dumps(
            {
                "baseline_mb": round(baseline, 1),
                "peak_mb": round(rss_mb(), 1),
                "zip_bytes": size,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    )
    return 0


def _child(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--photo-kb", type=int, default=1000)
    parser.add_argument("--seed-only", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--export-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        return seed(args.sessions, args.photos, args.photo_kb)
    if args.export_only:
        return export(args.export_only)

    with tempfile.TemporaryDirectory(prefix="mc-export-bench-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "SQLITE_PATH": str(Path(tmp) / "bench.sqlite3"),
            "MEDIA_ROOT": str(Path(tmp) / "media"),
            "TMPDIR": tmp,
        }
        env.pop("DATABASE_URL", None)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        seeded = _child(
            [
                "--seed-only=1",
                f"--sessions={args.sessions}",
                f"--photos={args.photos}",
                f"--photo-kb={args.photo_kb}",
            ],
            env,
        )
        result = _child([f"--export-only={seeded['patient']}"], env)
    print(
        f"export of 1 patient: {args.sessions} sessions, {args.photos} photos "
        f"({seeded['photo_bytes'] / 1e6:.0f} MB of photos)"
    )
    print(
        f"  ZIP {result['zip_bytes'] / 1e6:.0f} MB in {result['seconds']} s; "
        f"RSS baseline {result['baseline_mb']} MB, peak {result['peak_mb']} MB "
        f"(goal < {GOAL_MB} MB: {'met' if result['peak_mb'] < GOAL_MB else 'NOT met'})"
    )
    return 0 if result["peak_mb"] < GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
