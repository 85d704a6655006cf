"""Clinical vocabularies shared by screening, records, photos and reactions."""

from django.db import models


class Technique(models.TextChoices):
    SYRINGE = "syringe", "Hand syringe"
    GUN = "gun", "Injector gun"
    ELECTRIC = "electric", "Needle-free electric-current device"
    PEN = "pen", "Microneedling pen"


class Depth(models.TextChoices):
    # Seed: superficial injections may be done by beauty therapists; deeper work needs a
    # medical practitioner.
    NAPPAGE = "nappage", "Epidermal / nappage"
    SUPERFICIAL = "superficial", "Superficial intradermal (papules)"
    DEEP = "deep", "Deep / point-by-point"


class Zone(models.TextChoices):
    FOREHEAD = "forehead", "Forehead"
    PERIORBITAL = "periorbital", "Around the eyes"
    CHEEKS = "cheeks", "Cheeks"
    NASOLABIAL = "nasolabial", "Nasolabial folds"
    PERIORAL = "perioral", "Around the mouth"
    JAWLINE = "jawline", "Jawline and chin"
    NECK = "neck", "Neck"
    DECOLLETAGE = "decolletage", "Décolletage"
    SCALP = "scalp", "Scalp"
    ABDOMEN = "abdomen", "Abdomen"
    FLANKS = "flanks", "Flanks"
    THIGHS = "thighs", "Thighs"
    ARMS = "arms", "Arms"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
