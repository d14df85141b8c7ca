"""Typical cases (典型案例) written for publication on the public transparency page.

Why a separate table with free text: a published case is written by the coordinating office for
the public, never copied from the sealed report, so it is stored in clear by design. It carries
no link to a report (a link would let anyone who sees both sides tie a publication to a report).
"""

from __future__ import annotations

from datetime import datetime

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, String, Text
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


class StatsRollup(Base):
    """Pre-aggregated oversight figures per CST filing day, department and one dimension value
    (``dim`` "total", "sector", "town", …, or a handling-time histogram "d_accept" …).

    Why: the district-wide dashboard over a year reads ~330,000 reports at a million; summing
    these rows instead keeps it within 500 ms (docs/benchmarks.md). Refreshed by
    ``python -m portal oversight-refresh`` (oversight/rollup.py); read only while fresh. Week rows
    (``grain`` "w") repeat the day rows summed per week, so a year reads ~52 weeks of rows."""

    __tablename__ = "stats_rollup"

    # "" for the whole district (or department); "s:<sector>" / "t:<town>" for the same figures
    # restricted to one sector or town, so a dashboard filtered by either also reads the rollup.
    # First in the key: each read is one scope, so it scans only that scope's rows.
    scope: Mapped[str] = mapped_column(String(48), primary_key=True, default="")
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)  # "d" day rows, "w" week rows (day = Monday)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    department_id: Mapped[int] = mapped_column(primary_key=True)
    dim: Mapped[str] = mapped_column(String(12), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)  # "" when not recorded
    received: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    not_accepted: Mapped[int] = mapped_column(default=0)
    transferred: Mapped[int] = mapped_column(default=0)
    checked: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)
    major: Mapped[int] = mapped_column(default=0)
    rectification_ordered: Mapped[int] = mapped_column(default=0)
    signed_off: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    open: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    rectification_overdue: Mapped[int] = mapped_column(default=0)
    supervised: Mapped[int] = mapped_column(default=0)
    check_days_sum: Mapped[float] = mapped_column(Float, default=0.0)


class StatsRefresh(Base):
    """One run of the rollup refresh: ``since`` None for a full rebuild, else the first day redone;
    ``as_of`` is the date overdue figures were computed for."""

    __tablename__ = "stats_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    since: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rows: Mapped[int] = mapped_column(default=0)


# Covering indexes for the statistics scans (migration 0006): the dashboard's GROUPING SETS query
# reads every report of a period; these let PostgreSQL do it from index-only scans. The partial
# hazard index serves the ledger (found date = checked_at, confirmed hazards only).
def _stats_indexes() -> None:
    from sqlalchemy import Index, text

    from models.case import CaseRecord
    from models.report import Report

    include = ["department_id", "sector", "town_code", "report_type", "urgency", "channel", "anonymous",
               "internal", "status", "is_open", "due_on", "supervised"]
    Index("ix_report_stats", Report.filed_at, Report.id, postgresql_include=include)
    # a sector or town filter reads live (the rollup has no pairs): start the scan at that value
    Index("ix_report_stats_sector", Report.sector, Report.filed_at, Report.id, postgresql_include=include)
    Index("ix_report_stats_town", Report.town_code, Report.filed_at, Report.id, postgresql_include=include)
    Index("ix_case_record_stats", CaseRecord.report_id,
          postgresql_include=["accepted_at", "checked_at", "conclusion", "hazard_level", "rectification_due",
                              "signed_off_at", "transfers"])
    hazard = text(HAZARD_WHERE)
    Index("ix_case_record_hazard", CaseRecord.checked_at, CaseRecord.report_id,
          postgresql_include=["hazard_level", "signed_off_at", "rectification_due"],
          postgresql_where=hazard, sqlite_where=hazard)


HAZARD_WHERE = "conclusion IN ('confirmed', 'partly') AND hazard_level IN ('major', 'general')"


_stats_indexes()
