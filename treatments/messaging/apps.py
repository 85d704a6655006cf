from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "treatments.messaging"
    label = "messaging"
    verbose_name = "Patient messages"
    default_auto_field = "django.db.models.BigAutoField"
