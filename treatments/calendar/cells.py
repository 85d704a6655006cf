"""The calendar grid's pieces: a column (one day of one practitioner or room), its cells, rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..availability import Offer
from ..models import Room, Session, StaffProfile
from ..selectors import Interval

STATUS_LABELS: dict[str, str] = {str(value): str(label) for value, label in Session.Status.choices}


@dataclass(frozen=True, slots=True)
class PatientName:
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"  # as Patient.full_name


@dataclass(frozen=True, slots=True)
class Named:
    """A session type's or room's name, or a practitioner's display name."""

    name: str

    @property
    def display_name(self) -> str:
        return self.name


@dataclass(eq=False, slots=True)
class CalendarSession:
    """What the grid shows of a session, read as one row of plain values (`grid.load_columns`):
    a day view's ~100 sessions with their patient, type, room and practitioner built as model
    instances cost about 4x as much. It reads like the `Session` it came from (the same
    attribute names) and compares equal to it."""

    pk: int
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    status: str
    session_type_id: int
    practitioner_id: int
    room_id: int
    patient: PatientName
    session_type: Named
    room: Named
    practitioner: Named
    patient_confirmed: bool = False
    # When the patient cancelled through the email's link (None: not by the patient).
    patient_cancelled_at: datetime | None = None

    @property
    def id(self) -> int:
        return self.pk

    @property
    def is_active(self) -> bool:
        return self.status in Session.ACTIVE

    def get_status_display(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CalendarSession | Session):
            return self.pk == other.pk
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.pk)


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
    active: list[CalendarSession] = field(default_factory=list)
    freed: list[CalendarSession] = field(default_factory=list)
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
    session: CalendarSession | None = None
    # Sessions that should not share this cell but do (only with inconsistent data).
    overlapping: list[CalendarSession] = field(default_factory=list)
    # Cancelled and no-show sessions starting here: shown struck through, slot free again.
    freed: list[CalendarSession] = field(default_factory=list)
    book_url: str = ""
    label: str = ""
    # Display strings, computed once in Python (`display.cell_display`): the template prints
    # them without filters or deep lookups, which made up most of a week's 20 ms render.
    css: str = ""
    title: str = ""
    aria: str = ""
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


@dataclass
class SlotText:
    """What every free quarter hour of a column shares, formatted once per column."""

    url: str
    aria: str
    type_name: str = ""
    held: int = 0
    # ("p", practitioner id) / ("r", room id) -> name, for the slots' labels.
    names: dict[tuple[str, int], str] = field(default_factory=dict)
