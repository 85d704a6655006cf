from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments.waitlist"
    label = "waitlist"
    verbose_name = "Waiting list"

    def ready(self) -> None:
        # Fill booking's freed-time table: a cancelled, moved or no-show session, a removed leave
        # or extra hours are offered to the waiting list in the freeing write's own transaction
        # (see treatments/booking_hooks.py).
        from treatments.booking_hooks import freed_hooks

        from .services import on_time_freed

        freed_hooks.register("waitlist", on_time_freed)
