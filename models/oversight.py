"""Typical cases (典型案例) written for publication on the public transparency page.

Why a separate table with free text: a published case is written by the coordinating office for
the public, never copied from the sealed report, so it is stored in clear by design. It carries
no link to a report (a link would let anyone who sees both sides tie a publication to a report).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class TypicalCase(Base):
    """A write-up in ``draft`` or ``published`` state; only the coordinating office edits it."""

    __tablename__ = "typical_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)  # draft | published
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


# Covering indexes for the statistics scans (migration 0005): the dashboard's GROUPING SETS query
# reads every report of a period; these let PostgreSQL do it from index-only scans.
def _stats_indexes() -> None:
    from sqlalchemy import Index

    from models.case import CaseRecord
    from models.report import Report

    Index("ix_report_stats", Report.filed_at, Report.id,
          postgresql_include=["department_id", "sector", "town_code", "report_type", "urgency", "channel", "anonymous",
                              "internal", "status", "is_open", "due_on", "supervised"])
    Index("ix_case_record_stats", CaseRecord.report_id,
          postgresql_include=["accepted_at", "checked_at", "conclusion", "hazard_level", "rectification_due",
                              "signed_off_at", "transfers"])


_stats_indexes()
