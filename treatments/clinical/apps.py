from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments.clinical"
    label = "clinical"
    verbose_name = "Clinical records"

    def ready(self) -> None:
        # The health questionnaire follows the patient's sessions (treatments/booking_hooks.py).
        from treatments.booking_hooks import session_hooks

        from .services.questionnaire import on_session_change

        session_hooks.register("questionnaire", on_session_change)
