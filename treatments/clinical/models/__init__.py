from .audit import AuditEntry
from .settings import ClinicalSettings

__all__ = ["AuditEntry", "ClinicalSettings"]
