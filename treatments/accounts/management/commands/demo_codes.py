"""Print the current two-factor code of each demo user (`make run`'s clinic).

Only devices holding the demo's published key (seed_demo.DEMO_TOTP_KEY) are shown, so this
never reveals a code of an app somebody set up themselves.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from treatments.management.commands.seed_demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print each demo user's current two-factor code (demo key only)."

    def handle(self, *args: Any, **options: Any) -> None:
        devices = (
            TOTPDevice.objects.filter(key=DEMO_TOTP_KEY, confirmed=True)
            .select_related("user")
            .order_by("user__username")
        )
        if not devices:
            self.stdout.write("No demo authenticator apps: run `manage.py seed_demo` first.")
            return
        left = 30 - int(time.time()) % 30
        for device in devices:
            code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
            self.stdout.write(f"  {device.user.username:<11} {code:0{device.digits}d}")
        self.stdout.write(
            f"Valid for {left} more seconds; each code works once (run again for the next)."
        )
