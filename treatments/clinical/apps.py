from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments.clinical"
    label = "clinical"
    verbose_name = "Clinical records"

    def ready(self) -> None:
        from . import signin_audit

        signin_audit.connect()
