"""The consent hook table: who reacts, in the consent change's own transaction, when a patient
gives or withdraws a consent.

`patients` sits below every other app, so it cannot import them; they fill these slots from
their `AppConfig.ready()`. One slot today:

1. "messaging": waiting emails are skipped when a consent is withdrawn and re-enabled when it is
   given again (treatments.messaging.reactions.on_consent_change), so an opt-out takes effect
   for the very next message.

A handler runs inside the change's transaction: if it raises, the consent change rolls back.
The table is pinned by patients/tests/test_consent_hooks.py.
"""

from __future__ import annotations

from mesoclinic.hooks import HookTable

from .models import Patient

# (patient, consent kind, given)
consent_hooks: HookTable[[Patient, str, bool]] = HookTable("consent hook", slots=("messaging",))


def consent_changed(*, patient: Patient, kind: str, given: bool) -> None:
    """Let every higher app react, in the table's order. Call inside the change's transaction."""
    consent_hooks.call(patient, kind, given)
