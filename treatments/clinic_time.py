"""Wall-clock time in the clinic's zone.

Rules, stated once here and in the booking form's help text:
- A local time inside the spring-forward gap (e.g. 01:30 on the last Sunday of March in
  Europe/London) does not exist: it is refused, never silently shifted.
- A local time that occurs twice at the autumn fall-back means its FIRST occurrence (still on
  summer time, `fold=0`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mesoclinic.errors import LocalTimeError

AMBIGUOUS_RULE = (
    "When the clocks go back, a time that happens twice means its first occurrence (summer time)."
)


def exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """Interpret a naive wall-clock datetime in `zone`; refuse times in the DST gap."""
    if naive.tzinfo is not None:
        raise ValueError("local_to_utc expects a naive wall-clock datetime")
    if not exists(naive, zone):
        raise LocalTimeError(
            f"{naive:%H:%M} does not exist on {naive:%d %b %Y} in {zone.key}: the clocks go "
            "forward at that time. Choose a time after the change.",
            field="time",
        )
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def combine(day: date, at: time, zone: ZoneInfo) -> datetime:
    return local_to_utc(datetime.combine(day, at), zone)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at the start and end of `day` (23, 24 or 25 hours apart)."""
    start = datetime.combine(day, time.min).replace(tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone).astimezone(UTC)
    return start, end


def local_interval(
    day: date, starts: time, ends: time, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """A working interval given in wall time, as UTC instants. A boundary inside the DST gap
    moves forward by the gap's length (zoneinfo's fold=0 reading); an ambiguous one takes the
    first occurrence."""
    start = datetime.combine(day, starts).replace(tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, ends).replace(tzinfo=zone).astimezone(UTC)
    return start, end
