from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "treatments.messaging"
    label = "messaging"
    verbose_name = "Patient messages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Fill the lower layers' hook tables: booking and consent changes make the outbox react
        # in their own transactions (see treatments/booking_hooks.py, patients/consent_hooks.py).
        from patients.consent_hooks import consent_hooks
        from treatments.booking_hooks import session_hooks

        from .reactions import on_consent_change, on_session_change

        session_hooks.register("messaging", on_session_change)
        consent_hooks.register("messaging", on_consent_change)
