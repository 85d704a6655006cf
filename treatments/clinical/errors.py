from mesoclinic.errors import DomainError


class ClinicalError(DomainError):
    """Bad or incomplete clinical input: the message says what to fix."""


class SafetyRefusal(ClinicalError):
    """A clinical safety rule refuses the change; the message says which rule and why."""


class RecordLocked(ClinicalError):
    """The record is signed (or belongs to someone else): corrections go in an addendum."""


class NotQualified(ClinicalError):
    """The person has no clinical qualification (or not the one this work needs)."""
