"""Reports, their wrapped keys, timeline, attachments and messages."""

from __future__ import annotations

from datetime import datetime

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow


class Report(Base):
    """One report. Clear columns are routing metadata; ``sealed_content`` (what happened, where,
    enterprise, time observed, sector hint, salt), ``sealed_identity`` (name, phone, ID number,
    contact) and ``sealed_triage`` (the explanation quoting the text) are AES-GCM blobs."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_dept_status", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    receipt_locator: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    status: Mapped[str] = mapped_column(String(24), default="received", index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    town_code: Mapped[str | None] = mapped_column(String(40))
    anonymous: Mapped[bool] = mapped_column(default=True)
    internal: Mapped[bool] = mapped_column(default=False)
    # triage metadata (coarse; never the text)
    triage_department: Mapped[str | None] = mapped_column(String(40))
    triage_confidence: Mapped[float] = mapped_column(default=0.0)
    needs_review: Mapped[bool] = mapped_column(default=True)
    sector: Mapped[str | None] = mapped_column(String(40))
    report_type: Mapped[str | None] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(12), default="medium")
    urgency_score: Mapped[int] = mapped_column(default=50)
    urgency_rank: Mapped[int] = mapped_column(SmallInteger, default=2)  # 0 critical … 3 low (queue order)
    # case metadata kept on the report so the queue is one index scan (details in CaseRecord)
    is_open: Mapped[bool] = mapped_column(default=True)
    due_on: Mapped[date | None] = mapped_column(Date)  # the deadline that governs the current stage
    supervised: Mapped[bool] = mapped_column(default=False)
    primary_report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))  # merged duplicates
    # key epochs: a transfer starts a new content key the previous department never held
    key_epoch: Mapped[int] = mapped_column(default=0)
    reporter_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    triage_model: Mapped[str] = mapped_column(String(60), default="none")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # retention: content and keys destroyed
    # sealed
    sealed_content: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_identity: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_triage: Mapped[bytes] = mapped_column(LargeBinary)
    # filing certificate (salted content digest: reveals nothing about the text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    certificate_signature: Mapped[str] = mapped_column(String(120))
    certificate_key_id: Mapped[str] = mapped_column(String(16))

    department = relationship("Department")
    wraps: Mapped[list[KeyWrap]] = relationship(back_populates="report", cascade="all, delete-orphan")
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportEvent.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Message.id"
    )
    case: Mapped["CaseRecord | None"] = relationship(  # noqa: F821 (models.case)
        back_populates="report", cascade="all, delete-orphan", uselist=False
    )


class KeyWrap(Base):
    """A report data key wrapped for one reader. ``purpose`` is ``content`` or ``identity``;
    ``recipient`` is ``department`` (with ``department_id``) or ``reporter``."""

    __tablename__ = "key_wrap"
    __table_args__ = (UniqueConstraint("report_id", "purpose", "recipient", "department_id", "epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))
    epoch: Mapped[int] = mapped_column(default=0)
    recipient: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[Report] = relationship(back_populates="wraps")


class ReportEvent(Base):
    """The status timeline. ``kind`` is a fixed code (its Chinese label lives in the views);
    ``public`` events are shown to the reporter."""

    __tablename__ = "report_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    public: Mapped[bool] = mapped_column(default=True)

    report: Mapped[Report] = relationship(back_populates="events")


class Attachment(Base):
    """An encrypted file. ``sealed_file_key`` is the file's own key sealed under the report's
    content key; ``sealed_meta`` holds the original name. Size and sniffed type are in clear."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    storage_name: Mapped[str] = mapped_column(String(32), unique=True)
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    sanitized: Mapped[bool] = mapped_column(default=False)
    sealed_file_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_meta: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(12), default="reporter")
    key_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[Report] = relationship(back_populates="attachments")


class Message(Base):
    """A message between the reporter and the handling department, sealed under the content key."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(12))  # "reporter" | "staff"
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_by_reporter: Mapped[bool] = mapped_column(default=False)
    key_epoch: Mapped[int] = mapped_column(default=0)

    report: Mapped[Report] = relationship(back_populates="messages")


# The workbench queue: the index order is the queue's ORDER BY (is_open DESC, urgency, deadline,
# id), so a page is a range scan with no sort; the INCLUDE columns let filtered counts read the
# index only (bench/workbench_scale.py at 1M reports: page p95 ≤ 30 ms; migration 0003).
_QUEUE_INCLUDE = ["supervised", "status", "sector", "town_code"]
Index("ix_report_queue", Report.department_id, Report.is_open.desc(), Report.urgency_rank, Report.due_on, Report.id,
      postgresql_include=_QUEUE_INCLUDE)
Index("ix_report_queue_all", Report.is_open.desc(), Report.urgency_rank, Report.due_on, Report.id,
      postgresql_include=_QUEUE_INCLUDE)
