"""When each message is due, and until when it is still worth sending.

The rules, stated once (README "Patient messages" repeats them):
- Preparation: at MESSAGING_SEND_HOUR (09:00) clinic local time, MESSAGING_PREPARATION_DAYS (3)
  calendar days before the session's local date; sent at once if booked later than that.
  Useful until the session starts.
- Day-before reminder: at 09:00 local time on the day before the session's local date. A booking
  made after that moment gets no reminder (its confirmation covers it). Useful until the start.
- Aftercare 24 h and 48 h: 24 and 48 ELAPSED hours after the session's recorded end
  (Session.completed_at), not the same wall-clock time. The advice ("no make-up for 24 hours")
  is about how long the skin has had to close, which a clock change does not alter: a session
  ending at 15:00 BST on the Saturday before the autumn change gets its 24 h message at 14:00 GMT
  on the Sunday. Each is useful for 24 hours after it falls due.
- Confirmation and cancellation notices: at once; a confirmation is useful until the session
  starts.
Calendar-day rules are computed on the clinic's wall clock (zoneinfo), so "3 days before at
09:00" is 09:00 local on either side of a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import conf

AFTERCARE_USEFUL_FOR = timedelta(hours=24)
NUDGE_USEFUL_FOR = timedelta(days=14)


def local_at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """`hour`:00 on `day` in the clinic's zone, as UTC. A time inside a spring-forward gap
    comes out after the gap (the round trip through UTC moves it forward), never earlier."""
    return datetime.combine(day, time(hour)).replace(tzinfo=zone).astimezone(UTC)


def preparation_due(starts_at: datetime, zone: ZoneInfo) -> datetime:
    day = starts_at.astimezone(zone).date() - timedelta(days=conf.preparation_days())
    return local_at(day, conf.send_hour(), zone)


def reminder_due(starts_at: datetime, zone: ZoneInfo) -> datetime:
    day = starts_at.astimezone(zone).date() - timedelta(days=1)
    return local_at(day, conf.send_hour(), zone)


def aftercare_due(ended_at: datetime, hours: int) -> datetime:
    # Arithmetic on a zoneinfo-aware datetime is wall-clock arithmetic (15:00 BST + 24 h would
    # be 15:00 GMT, 25 elapsed hours). Elapsed hours are counted in UTC.
    return ended_at.astimezone(UTC) + timedelta(hours=hours)
