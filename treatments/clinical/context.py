"""Template context: whether the signed-in user may write clinical content.

The role lets a manager see clinical pages; only a clinical qualification lets anyone write
(services/authority.py refuses otherwise). Pages hide the write actions from the others and say
why, instead of offering a button that can only be refused.
"""

from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from .services.authority import clinical_profile


def clinical_authority(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)

    @cache
    def can_write_clinical() -> bool:
        # Read lazily, once per request: most pages never ask.
        return clinical_profile(user=user) is not None

    return {"can_write_clinical": can_write_clinical}
