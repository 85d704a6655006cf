from .choices import Depth, Severity, Technique, Zone
from .consent import ConsentSignature, ConsentText, PhotoConsent
from .drafts import RecordDraft
from .photos import ClinicalPhoto
from .questionnaire import Questionnaire, ReportedAnswer
from .reactions import Reaction
from .records import Addendum, Consultation, ConsultationPlanProduct, SessionRecord
from .screening import Screening, ScreeningAnswer, ScreeningRule
from .settings import ClinicalSettings

__all__ = [
    "Addendum",
    "ClinicalPhoto",
    "ClinicalSettings",
    "ConsentSignature",
    "ConsentText",
    "Consultation",
    "ConsultationPlanProduct",
    "Depth",
    "PhotoConsent",
    "Questionnaire",
    "Reaction",
    "RecordDraft",
    "ReportedAnswer",
    "Screening",
    "ScreeningAnswer",
    "ScreeningRule",
    "SessionRecord",
    "Severity",
    "Technique",
    "Zone",
]
