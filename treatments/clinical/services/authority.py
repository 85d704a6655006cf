"""Who may write clinical content: the one check every clinical write service calls first.

The role decides what a person may *see* (a non-clinical manager reads clinical pages to run the
clinic); the qualification decides what they may *write*. Only clinically qualified staff
(aesthetic therapist, nurse, doctor, prescriber) author or sign clinical content, and each
within their scope:

- session records: a therapist superficial technique on non-medical-only types only (seed:
  "Superficial injections can be done by beauty therapists; deeper work needs a medical
  practitioner"); the depth and type rules are in records.py;
- screenings, consultations, consent witnessing, photos, staff-recorded reactions, addenda:
  any clinically qualified person. A therapist treating superficially alone needs a current
  screening, the patient's consent and a plan, so refusing these would stop the very sessions
  the seed allows them; none of them decides depth, which the record and the booking enforce;
- lifting a "do not book" hold: medical staff only, because it overrides an absolute
  contraindication (holds.py).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from treatments.models import StaffProfile

from ..errors import NotQualified


def clinical_profile(*, user: User | AnonymousUser | None) -> StaffProfile | None:
    """The user's staff profile if they hold a clinical qualification, else None."""
    pk = user.pk if user is not None else None
    if pk is None:
        return None
    profile = StaffProfile.objects.filter(user_id=pk).first()
    return profile if profile is not None and profile.is_clinical else None


def clinician_required(*, by: User | None, action: str, medical: bool = False) -> StaffProfile:
    """Refuse anyone without a clinical qualification (or a medical one when `medical`).

    `action` completes "Only clinically qualified staff may ...", e.g. "sign a record".
    """
    profile = clinical_profile(user=by)
    if profile is None:
        raise NotQualified(
            f"Only clinically qualified staff (aesthetic therapist, nurse, doctor or prescriber) "
            f"may {action}; your staff profile has no clinical qualification. You can read "
            "this; ask a clinician to write it."
        )
    if medical and not profile.is_medical:
        raise NotQualified(
            f"Only a doctor, nurse or prescriber may {action}; you are recorded as "
            f"{profile.get_qualification_display().lower()}. Ask a medical colleague."
        )
    return profile
