"""Case handling records: the lifecycle stage details, enforcement decisions, inspections,
internal comments, transfers, supervision (挂牌督办) and identity-reveal requests.

Queue-relevant fields (status, due date, supervision flag, urgency rank) live on ``Report`` so a
workbench page is one index scan; everything else about handling lives here. Free text that staff
write about a case (comments, inspection notes, the check summary, transfer reasons) is sealed
under the report's content key, because it routinely quotes the report. Enforcement decisions and
the five-implementations status are official records kept in clear: oversight statistics and
the reward rules work from them without decrypting anything.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.report import Report


class CaseRecord(Base):
    """One per report, created when the report is filed. Dates are CST calendar dates."""

    __tablename__ = "case_record"
    __table_args__ = (  # the few escalated cases, counted on every queue page
        Index("ix_case_record_escalated", "report_id", postgresql_where=text("escalation > 0"),
              sqlite_where=text("escalation > 0")),
    )

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    screen_due: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    not_accepted_reason: Mapped[str | None] = mapped_column(String(30))
    check_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    check_due: Mapped[date | None] = mapped_column(Date)
    extension_days: Mapped[int] = mapped_column(default=0)
    extension_requested_days: Mapped[int | None] = mapped_column()
    extension_requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    extension_approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conclusion: Mapped[str | None] = mapped_column(String(12))  # confirmed | partly | unfounded
    sealed_summary: Mapped[bytes | None] = mapped_column(LargeBinary)  # 简要核查情况
    summary_epoch: Mapped[int] = mapped_column(default=0)
    hazard_level: Mapped[str | None] = mapped_column(String(10))  # major | general | none
    enterprise_name: Mapped[str | None] = mapped_column(String(120))  # the checked unit, official record
    reply_due: Mapped[date | None] = mapped_column(Date)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reward_eligible: Mapped[bool | None] = mapped_column()
    objection_due: Mapped[date | None] = mapped_column(Date)
    objected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recheck_due: Mapped[date | None] = mapped_column(Date)
    rechecks: Mapped[int] = mapped_column(default=0)
    rectification: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # 五落实
    rectification_due: Mapped[date | None] = mapped_column(Date)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deaths_alleged: Mapped[bool] = mapped_column(default=False)  # checking organised by the county government
    self_reported: Mapped[bool] = mapped_column(default=False)  # enterprise reported its own hazard
    assignment_final: Mapped[bool] = mapped_column(default=False)  # coordinator's decision after a rejection
    escalation: Mapped[int] = mapped_column(default=0)  # 0 none, 1 head told, 2 coordinating office told
    transfers: Mapped[int] = mapped_column(default=0)

    report: Mapped[Report] = relationship(back_populates="case")


class EnforcementDecision(Base):
    """An enforcement decision after checking (fine, confiscation, orders, judicial transfer)."""

    __tablename__ = "enforcement_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount_yuan: Mapped[int | None] = mapped_column()
    document_no: Mapped[str | None] = mapped_column(String(60))
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))


class Inspection(Base):
    """A follow-up inspection of the rectification; ``passed`` inspections allow sign-off."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(12))  # passed | failed | ongoing
    sealed_note: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_epoch: Mapped[int] = mapped_column(default=0)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))


class CaseComment(Base):
    """Internal comments and supervision progress notes; never shown to the reporter."""

    __tablename__ = "case_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="comment")  # comment | progress
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    key_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseTransfer(Base):
    """A move between departments: ``transfer`` (移送) or ``reject`` (back to the coordinating office)."""

    __tablename__ = "case_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    from_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    to_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    by_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    sealed_reason: Mapped[bytes] = mapped_column(LargeBinary)
    key_epoch: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Supervision(Base):
    """挂牌督办: a coordinator-set deadline with periodic progress notes required."""

    __tablename__ = "supervision"
    __table_args__ = (Index("ix_supervision_open", "report_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    started_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    progress_every_days: Mapped[int] = mapped_column(default=7)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityReveal(Base):
    """A handler's request to see the reporter's identity; needs a head's approval.

    ``reason`` is kept in clear so auditors can judge it without decrypting anything: the form
    tells staff not to quote the report in it.
    """

    __tablename__ = "identity_reveal"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | refused
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
