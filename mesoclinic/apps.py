from django.apps import AppConfig


class MesoclinicConfig(AppConfig):
    name = "mesoclinic"
    verbose_name = "mesoclinic"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .session_limits import stamp_sign_in

        user_logged_in.connect(stamp_sign_in, dispatch_uid="mesoclinic-session-stamp")
