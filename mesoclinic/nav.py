"""The links every page's frame (templates/base.html) prints, reversed once per process.

`{% url %}` reverses on every render: 18 links a page, about a tenth of a cached calendar
page's time. The paths depend only on the URLconf and the script prefix (the mount point), so
they are kept per (URLconf, prefix) and looked up as `{{ nav.<name> }}`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

NAV_URLS = {
    "home": "home",
    "today": "treatments:today",
    "clinical_today": "clinical:today",
    "calendar": "treatments:calendar",
    "patients": "patients:patient_list",
    "courses": "courses:course_list",
    "messages": "messaging:outbox",
    "online_requests": "online:requests",
    "waitlist": "waitlist:entry_list",
    "clinical": "clinical:dashboard",
    "products": "products:product_list",
    "setup": "treatments:setup",
    "audit": "audit:audit_list",
    "password_change": "password_change",
    "second_factor_enrol": "accounts:second_factor_enrol",
    "logout": "logout",
    "session_status": "session_status",
    "session_extend": "session_extend",
    "login": "login",
}


@lru_cache(maxsize=16)
def _reversed(urlconf: str, prefix: str) -> dict[str, str]:
    # `prefix` is part of the key only: reverse() reads the current script prefix itself.
    return {key: reverse(name, urlconf=urlconf) for key, name in NAV_URLS.items()}


def nav_context(request: HttpRequest) -> dict[str, Any]:
    urlconf = getattr(request, "urlconf", None) or get_urlconf() or settings.ROOT_URLCONF
    return {"nav": _reversed(str(urlconf), get_script_prefix())}
