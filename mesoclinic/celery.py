"""The Celery app. Broker: REDIS_URL (settings.CELERY_BROKER_URL); JSON only; UTC."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesoclinic.settings")

app = Celery("mesoclinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
