from .calendar import CalendarVersion
from .clinic import Clinic, OnlineBooking, OpeningHours, Room
from .sessions import Session, SessionType
from .staff import StaffProfile, WorkingException, WorkingHours

__all__ = [
    "CalendarVersion",
    "Clinic",
    "OnlineBooking",
    "OpeningHours",
    "Room",
    "Session",
    "SessionType",
    "StaffProfile",
    "WorkingException",
    "WorkingHours",
]
