from .audit import AuditEntry
from .choices import Depth, Severity, Technique, Zone
from .consent import ConsentSignature, ConsentText, PhotoConsent
from .screening import Screening, ScreeningAnswer, ScreeningRule
from .settings import ClinicalSettings

__all__ = [
    "AuditEntry",
    "ClinicalSettings",
    "ConsentSignature",
    "ConsentText",
    "Depth",
    "PhotoConsent",
    "Screening",
    "ScreeningAnswer",
    "ScreeningRule",
    "Severity",
    "Technique",
    "Zone",
]
