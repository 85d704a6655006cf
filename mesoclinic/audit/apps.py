from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mesoclinic.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Sign-in events reach the trail through Django's and django-axes' signals (audit only,
        # no business rule): see signin_receivers.py.
        from . import signin_receivers

        signin_receivers.connect()
