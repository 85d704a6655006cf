"""Reads for patients: search, the patient page, duplicate candidates. Query counts stay flat."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypedDict

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django_stubs_ext import WithAnnotations

from .models import ConsentChange, Patient, phone_digits

# The three date spellings the desk types: ISO from the date picker, and the UK forms
# read off a form or an ID card.
_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"),
)
_PHONE_LIKE = re.compile(r"^[\d\s+\-().]+$")
# Fewer digits than this match too many numbers to be a useful phone search.
MIN_PHONE_DIGITS = 3
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class SearchQuery:
    """What the desk typed, read as one kind of search."""

    kind: str  # "empty" | "date" | "bad_date" | "phone" | "email" | "name"
    text: str
    date: dt.date | None = None
    digits: str = ""
    e164: str = ""
    tokens: tuple[str, ...] = field(default_factory=tuple)


def parse_search_query(query: str) -> SearchQuery:
    text = (query or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not text:
        return SearchQuery(kind="empty", text="")
    for pattern in _DATE_PATTERNS:
        if found := pattern.match(text):
            try:
                day = dt.date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                # Looks like a date but is not one (30/02/1990): say so rather than
                # falling through to a phone search on its digits.
                return SearchQuery(kind="bad_date", text=text)
            return SearchQuery(kind="date", text=text, date=day)
    if "@" in text:
        return SearchQuery(kind="email", text=text.lower())
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= MIN_PHONE_DIGITS:
            return SearchQuery(kind="phone", text=text, digits=digits, e164=phone_digits(text))
    tokens = tuple(t for t in re.split(r"[\s,]+", text.lower()) if t)
    return SearchQuery(kind="name", text=text, tokens=tokens)


_ALNUM_RUN = re.compile(r"^[a-z0-9]+")


def _next_after_prefix(run: str) -> str | None:
    """The smallest string above every string that starts with `run` (a-z, 0-9 only).

    "wri" -> "wrj", "wrz" -> "ws", "zz" -> None (no upper bound).
    """
    stripped = run.rstrip("z9")
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def _prefix_q(field_name: str, token: str) -> Q:
    """`field` starts with `token`, written so a B-tree index on `field` can be used.

    PostgreSQL only uses an ordinary B-tree index for LIKE 'abc%' under the "C" collation, so
    the LIKE is paired with a range (field >= 'abc' AND field < 'abd') that any B-tree index
    serves; the LIKE keeps the result exact. The range is built from the leading run of plain
    letters and digits only: then it contains every match under byte-order collations (C,
    C.UTF-8, SQLite) and under the usual language collations (en_GB, en_US, ICU), which ignore
    punctuation and accents at their first level.
    """
    q = Q(**{f"{field_name}__startswith": token})
    found = _ALNUM_RUN.match(token)
    if found:
        low = found.group()
        q &= Q(**{f"{field_name}__gte": low})
        high = _next_after_prefix(low)
        if high is not None:
            q &= Q(**{f"{field_name}__lt": high})
    return q


def _name_token_q(token: str) -> Q:
    return _prefix_q("first_lower", token) | _prefix_q("last_lower", token)


class _Lowered(TypedDict):
    first_lower: str
    last_lower: str
    email_lower: str


# A patient with the lower-cased copies (a string: WithAnnotations is for type checkers).
LoweredPatient: TypeAlias = "WithAnnotations[Patient, _Lowered]"


def _lowered() -> QuerySet[LoweredPatient]:
    """Patients with the lower-cased name and email that the expression indexes cover. An erased
    patient (anonymised after an erasure request) is never found again."""
    return Patient.objects.filter(erased_at__isnull=True).annotate(
        first_lower=Lower("first_name"),
        last_lower=Lower("last_name"),
        email_lower=Lower("email"),
    )


def _search_filter(parsed: SearchQuery) -> Q | None:
    if parsed.kind == "date":
        return Q(date_of_birth=parsed.date)
    if parsed.kind == "email":
        if parsed.text.startswith("@"):
            # The desk typed a domain: only a scan can find it (fast enough at clinic sizes).
            return Q(email_lower__contains=parsed.text)
        return _prefix_q("email_lower", parsed.text)
    if parsed.kind == "phone":
        q = Q(phone_digits__contains=parsed.digits)
        # A whole number in any format ("07700 900123", "0044 7700 900123") is its E.164 form.
        if parsed.e164.startswith("+"):
            q |= Q(phone_digits=parsed.e164)
        national = parsed.digits.lstrip("0")
        # "07700 900123" typed for a number stored as "+44 7700 900123": drop the trunk 0.
        if national != parsed.digits and len(national) >= 6:
            q |= Q(phone_digits__endswith=national)
        return q
    if parsed.kind == "name" and parsed.tokens:
        q = Q()
        for token in parsed.tokens:
            q &= _name_token_q(token)
        if len(parsed.tokens) == 1:
            # A single word may be the start of an email address ("jane.doe").
            q |= _prefix_q("email_lower", parsed.tokens[0])
        return q
    return None


def patients_search(*, query: str, limit: int = 50) -> list[Patient]:
    """Patients matching a name, phone, email or date of birth; one query, at most `limit`.

    An empty or unusable query returns nothing (the list page shows recent patients instead).
    """
    condition = _search_filter(parse_search_query(query))
    if condition is None:
        return []
    qs = _lowered().filter(condition)
    return list(qs.order_by("last_lower", "first_lower", "date_of_birth", "id")[:limit])


def patients_recent(*, limit: int = 20) -> list[Patient]:
    """The most recently registered patients (newest first), for the list page before a search."""
    return list(Patient.objects.filter(erased_at__isnull=True).order_by("-id")[:limit])


def patient_detail_get(*, pk: int) -> Patient:
    """The patient with their consent history; raises Patient.DoesNotExist."""
    return Patient.objects.prefetch_related("consent_changes__recorded_by").get(pk=pk)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def patients_possible_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    email: str = "",
    phone: str = "",
) -> list[Patient]:
    """Registered patients who may be the same person: same name and birth date, email or phone."""
    condition = Q(
        first_lower=first_name.strip().lower(),
        last_lower=last_name.strip().lower(),
        date_of_birth=date_of_birth,
    )
    if email.strip():
        condition |= Q(email_lower=email.strip().lower())
    digits = phone_digits(phone)
    if digits:
        condition |= Q(phone_digits=digits)
    qs = _lowered().filter(condition)
    return list(qs.order_by("last_lower", "first_lower", "id")[:20])


# Which Patient fields hold each consent and the time it last changed.
CONSENT_FIELDS: dict[str, tuple[str, str]] = {
    ConsentChange.Kind.EMAIL_REMINDERS: ("email_reminders_consent", "email_reminders_consent_at"),
    ConsentChange.Kind.MARKETING: ("marketing_consent", "marketing_consent_at"),
}


def patient_consents(*, patient: Patient) -> list[dict[str, Any]]:
    """Each consent with its state, when it last changed and its history (newest first).

    Reads the history prefetched by patient_detail_get, so it adds no query.
    """
    history: dict[str, list[ConsentChange]] = {}
    for change in patient.consent_changes.all():
        history.setdefault(change.kind, []).append(change)
    return [
        {
            "kind": kind,
            "label": label,
            "given": getattr(patient, CONSENT_FIELDS[kind][0]),
            "at": getattr(patient, CONSENT_FIELDS[kind][1]),
            "history": history.get(kind, []),
        }
        for kind, label in ConsentChange.Kind.choices
    ]
