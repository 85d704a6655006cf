"""`make run`'s server: Django's development server plus in-process message delivery.

Without Redis there is no Celery worker, so this command runs the same dispatcher the Celery
beat schedule runs, on the same interval, in a background thread.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from treatments.messaging import conf
from treatments.messaging.dispatch import dispatch_in_process
from treatments.online.services import online_requests_lapse
from treatments.waitlist.services import offers_tick

from .runserver import refuse_unsafe_bind

log = logging.getLogger(__name__)


def use_served_address_for_links(*, host: str, port: int) -> str:
    """Make email links and the banner point at where this server listens, unless SITE_URL says
    otherwise (a proxy, a public name). Returns the base the links now use."""
    os.environ.setdefault("SITE_URL", f"http://{host}:{port}")
    return conf.site_url()


class Command(BaseCommand):
    help = "Serve the clinic on HOST:PORT and deliver due patient messages in the background."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        refuse_unsafe_bind(host)
        links = use_served_address_for_links(host=host, port=port)
        stop = threading.Event()
        delivery = threading.Thread(target=self._deliver, args=(stop,), daemon=True)
        delivery.start()
        self.stdout.write(f"mesoclinic: http://{host}:{port}/  (logins: see README)")
        if links != f"http://{host}:{port}":
            self.stdout.write(f"Links in emails start with {links} (SITE_URL).")
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            stop.set()

    def _deliver(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                offers_tick()  # the waiting list's expiries and next batches, as beat would
            except Exception:
                # Like the dispatcher: log and try again next interval, never stop delivering.
                log.exception("waiting-list tick failed; trying again next interval")
            try:
                online_requests_lapse()  # undecided online requests past their start, as beat
            except Exception:
                log.exception("online requests tick failed; trying again next interval")
            dispatch_in_process()
            stop.wait(conf.dispatch_interval())
