from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments.accounts"
    label = "accounts"
    verbose_name = "Sign-in: second factor and passwords"
