"""The calendar grid's pieces: a column (one day of one practitioner or room), its cells, rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..availability import Offer
from ..models import Room, Session, StaffProfile
from ..selectors import Interval


@dataclass
class Column:
    day: date
    label: str
    sublabel: str
    url: str
    is_today: bool
    # " cal-on-today" on today's column (the current-time line), else "".
    today: str = ""
    # The header's data- attributes: where a session dropped in this column goes.
    drop: str = ""  # SafeString once filled
    practitioner: StaffProfile | None = None
    room: Room | None = None
    working: list[Interval] = field(default_factory=list)
    active: list[Session] = field(default_factory=list)
    freed: list[Session] = field(default_factory=list)
    # The starts offered for the chosen session type (`treatments.availability`).
    offers: dict[datetime, Offer] = field(default_factory=dict)

    @property
    def resource(self) -> StaffProfile | Room:
        """Whose column this is: a practitioner's or a room's, never neither."""
        if self.practitioner is not None:
            return self.practitioner
        if self.room is not None:
            return self.room
        raise ValueError("A calendar column belongs to a practitioner or a room.")


@dataclass
class Cell:
    # "session" | "free" | "past" | "busy" | "closed" | "gap"
    kind: str
    column: Column
    rowspan: int = 1
    session: Session | None = None
    # Sessions that should not share this cell but do (only with inconsistent data).
    overlapping: list[Session] = field(default_factory=list)
    # Cancelled and no-show sessions starting here: shown struck through, slot free again.
    freed: list[Session] = field(default_factory=list)
    book_url: str = ""
    label: str = ""
    # Display strings, computed once in Python (`display.cell_display`): the template prints
    # them without filters or deep lookups, which made up most of a week's 20 ms render.
    css: str = ""
    title: str = ""
    aria: str = ""
    times: str = ""
    badge: str = ""  # SafeString once filled
    patient: str = ""
    meta: str = ""
    url: str = ""
    extra: str = ""  # SafeString once filled
    html: str = ""  # a session's block and popover; SafeString once filled
    share: int = 100

    @property
    def session_share(self) -> int:
        """How much of the held slot is the session itself (the rest is the clean-up buffer)."""
        s = self.session
        return round(100 * (s.ends_at - s.starts_at) / (s.blocked_until - s.starts_at)) if s else 0


@dataclass
class Row:
    at: time
    cells: list[Cell | None]
    label: str = ""
    # The cells that start in this row (the others are covered by a session's rowspan).
    shown: list[Cell] = field(default_factory=list)
    # The row's markup (`display.row_html`); SafeString once filled.
    html: str = ""

    @property
    def on_the_hour(self) -> bool:
        return self.at.minute == 0


@dataclass
class SlotText:
    """What every free quarter hour of a column shares, formatted once per column."""

    url: str
    resource: str
    aria: str
    type_name: str = ""
    held: int = 0
    # ("p", practitioner id) / ("r", room id) -> name, for the slots' labels.
    names: dict[tuple[str, int], str] = field(default_factory=dict)
