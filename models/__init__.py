"""SQLAlchemy 2.0 typed models. Importing this package registers every table on ``Base.metadata``.

What is stored in clear is coarse routing metadata only (department, sector, urgency, town code,
status, times). Everything a reporter wrote, their identity and the triage explanation quoting
them are sealed blobs (see secure_store.envelope).
"""

from models.audit import AuditEntry
from models.base import Base
from models.case import (
    CaseComment,
    CaseRecord,
    CaseTransfer,
    EnforcementDecision,
    IdentityReveal,
    Inspection,
    Supervision,
)
from models.department import Department, DepartmentGrant, StaffUser
from models.oversight import StatsRefresh, StatsRollup, TypicalCase
from models.report import Attachment, KeyWrap, Message, Report, ReportEvent
from models.reward import Reward, RewardBudget, RewardPayout
from models.search import ReportFingerprint, SearchTerm
from models.security import PowSpent, ReporterSession, StaffSession

__all__ = [
    "Attachment",
    "AuditEntry",
    "Base",
    "CaseComment",
    "CaseRecord",
    "CaseTransfer",
    "EnforcementDecision",
    "IdentityReveal",
    "Inspection",
    "Supervision",
    "SearchTerm",
    "StaffSession",
    "Department",
    "DepartmentGrant",
    "KeyWrap",
    "Message",
    "PowSpent",
    "Report",
    "ReportEvent",
    "ReportFingerprint",
    "ReporterSession",
    "Reward",
    "RewardBudget",
    "RewardPayout",
    "StaffUser",
    "StatsRefresh",
    "StatsRollup",
    "TypicalCase",
]
