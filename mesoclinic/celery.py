"""The Celery app. Broker: REDIS_URL (settings.CELERY_BROKER_URL); JSON only; UTC."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesoclinic.settings")

app = Celery("mesoclinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Patient messages are database rows with a due time (patients.messaging); beat only wakes the
# dispatcher. A tick that waited longer than an interval in the queue is dropped, not run late.
_interval = float(os.environ.get("MESSAGING_DISPATCH_INTERVAL") or 60)
app.conf.beat_schedule = {
    "messaging-dispatch-due": {
        "task": "messaging.dispatch_due",
        "schedule": _interval,
        "options": {"expires": _interval},
    },
    "messaging-reap": {
        "task": "messaging.reap",
        "schedule": _interval,
        "options": {"expires": _interval},
    },
}
