from django.apps import AppConfig


class CoursesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments.courses"
    label = "courses"
    verbose_name = "Courses and protocols"

    def ready(self) -> None:
        # Fill booking's hook table: a course completes with its last session, in the booking's
        # own transaction (see treatments/booking_hooks.py).
        from treatments.booking_hooks import session_hooks

        from .session_events import on_session_change

        session_hooks.register("courses", on_session_change)
