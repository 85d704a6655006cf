"""Helpers every export of personal data uses (CSV now; ZIPs call the audit the same way)."""

from __future__ import annotations

import re

PHONE_LIKE = re.compile(r"[+\-]?[\d\s()\-.]*")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs.

    Spreadsheet apps run a cell starting with = + - @ as a formula (CSV injection). A phone
    number like "+44 7700 900123" is left alone so that lists of patients stay usable.
    """
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not PHONE_LIKE.fullmatch(text)
    ):
        return "'" + text
    return text
