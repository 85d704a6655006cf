"""Seed the default screening rules and a first consent text per seeded session type.

Rules follow common practice in aesthetic clinics (DOMAIN.md, "Screening"), plus the needle-free
electric devices' own questions. Only missing rows are created: a clinic's edits survive.
"""

from django.db import migrations

# code, question, severity, scope, technique, ingredient, asks_detail
RULES = [
    ("pregnancy", "Is the patient pregnant or breastfeeding?", "absolute", "all", "", "", False),
    (
        "anticoagulants",
        "Taking anticoagulants or antiplatelets (e.g. warfarin, apixaban, clopidogrel, daily aspirin)?",
        "relative",
        "all",
        "",
        "",
        True,
    ),
    (
        "bleeding-supplements",
        "Taking NSAIDs, fish oil, vitamin E or ginkgo?",
        "info",
        "all",
        "",
        "",
        True,
    ),
    ("bleeding-disorder", "A bleeding or clotting disorder?", "absolute", "all", "", "", True),
    (
        "lidocaine-allergy",
        "Allergic to lidocaine or other local anaesthetics?",
        "absolute",
        "ingredient",
        "",
        "lidocaine",
        False,
    ),
    (
        "ingredient-allergy",
        "Allergic to any product ingredient (name them)?",
        "absolute",
        "ingredient",
        "",
        "",
        True,
    ),
    ("other-allergy", "Any other allergy?", "info", "all", "", "", True),
    (
        "site-infection",
        "Active infection, herpes (cold sores) or inflammation at the treatment site?",
        "absolute",
        "all",
        "",
        "",
        True,
    ),
    ("autoimmune", "An autoimmune disease?", "relative", "all", "", "", True),
    ("diabetes", "Uncontrolled diabetes?", "absolute", "all", "", "", False),
    ("keloid", "History of keloid or hypertrophic scarring?", "relative", "all", "", "", False),
    (
        "isotretinoin",
        "Isotretinoin (e.g. Roaccutane) in the last 6 months?",
        "relative",
        "all",
        "",
        "",
        False,
    ),
    ("cancer-treatment", "Currently having cancer treatment?", "absolute", "all", "", "", False),
    (
        "recent-procedure",
        "Laser, chemical peel or microneedling on the area recently?",
        "info",
        "all",
        "",
        "",
        True,
    ),
    (
        "pacemaker",
        "A pacemaker or other implanted electronic device?",
        "absolute",
        "technique",
        "electric",
        "",
        False,
    ),
    (
        "metal-implants",
        "Metal implants in the treatment area?",
        "absolute",
        "technique",
        "electric",
        "",
        True,
    ),
    ("epilepsy", "Epilepsy?", "relative", "technique", "electric", "", False),
]

CONSENT_BODY = """I have had a consultation with a qualified practitioner who explained mesotherapy for this area: \
a fine needle (by hand or with an injector) or a needle-free device delivers a registered medical-device product \
into the skin, in a course of usually 3 to 6 sessions a few weeks apart.

I understand that redness, swelling or bruising at the injection sites is normal and fades in hours to days, \
and that rarer effects include infection, allergic reaction, nodules and, very rarely, skin damage.

I have answered the medical questions truthfully and will tell the clinic if anything changes. I will follow \
the aftercare advice: no strenuous exercise for 48 hours; no hot showers, baths, saunas or sun for the first \
days; no make-up on the area for 24 hours; and I will contact the clinic at once about excessive swelling, \
severe pain or anything unusual.

I consent to the treatment and understand that I can stop it at any time."""


def seed(apps, schema_editor):
    ScreeningRule = apps.get_model("clinical", "ScreeningRule")
    SessionType = apps.get_model("treatments", "SessionType")
    ConsentText = apps.get_model("clinical", "ConsentText")
    for position, (code, question, severity, scope, technique, ingredient, detail) in enumerate(
        RULES
    ):
        ScreeningRule.objects.get_or_create(
            code=code,
            defaults={
                "question": question,
                "severity": severity,
                "scope": scope,
                "technique": technique,
                "ingredient": ingredient,
                "asks_detail": detail,
                "position": position * 10,
            },
        )
    for session_type in SessionType.objects.all():
        if not ConsentText.objects.filter(session_type=session_type).exists():
            ConsentText.objects.create(
                session_type=session_type,
                version=1,
                title=f"Consent to mesotherapy: {session_type.name}",
                body=CONSENT_BODY,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0003_screening_and_consent"),
        ("treatments", "0003_seed_session_types"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
