"""The workbench queue: filters, blind-index search and keyset-friendly pagination over report
metadata only (nothing here decrypts). Sorted by urgency, then the governing deadline.

The sort keys (is_open, urgency_rank, due_on, id) are covered by ``ix_report_queue`` /
``ix_report_queue_all``, so a page is an index range scan however many reports exist; the total
is counted only up to ``COUNT_CAP`` for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from cases.desk import StaffContext, visible_clause
from cases.states import OPEN_STATES, STATES, URGENCY_RANK
from cases.ttl_cache import TTLCache
from models import CaseRecord, Report
from secure_store import blind_index

PAGE_SIZE = 50
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000  # a common word matches half the reports: counting further costs ~120 ms


@dataclass
class QueueFilter:
    status: str = "open"  # "open", "all", or a state code
    sector: str | None = None
    town: str | None = None
    urgency: str | None = None
    overdue: bool = False
    due_soon: bool = False
    supervised: bool = False
    department_id: int | None = None  # coordinator/auditor narrowing
    number: str | None = None
    query: str | None = None
    page: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass
class QueuePage:
    rows: list[Report]
    total: int
    capped: bool
    page: int
    pages: int


def _filtered(staff: StaffContext, f: QueueFilter, today: date, index_key: bytes | None) -> Select[tuple[Report]]:
    stmt = select(Report).where(visible_clause(staff))
    if f.status == "open":
        stmt = stmt.where(Report.is_open.is_(True))
    elif f.status in STATES:
        stmt = stmt.where(Report.status == f.status)
    if f.department_id is not None and staff.role in ("coordinator", "auditor"):
        stmt = stmt.where(Report.department_id == f.department_id)
    if f.sector:
        stmt = stmt.where(Report.sector == f.sector)
    if f.town:
        stmt = stmt.where(Report.town_code == f.town)
    if f.urgency in URGENCY_RANK:
        stmt = stmt.where(Report.urgency_rank == URGENCY_RANK[f.urgency])
    if f.overdue:
        stmt = stmt.where(Report.is_open.is_(True), Report.due_on < today)
    if f.due_soon:
        stmt = stmt.where(Report.is_open.is_(True), Report.due_on >= today, Report.due_on <= today + timedelta(days=3))
    if f.supervised:
        stmt = stmt.where(Report.supervised.is_(True))
    if f.number:
        stmt = stmt.where(Report.number == f.number.strip().upper())
    if f.query and index_key is not None:
        if not blind_index.query_words(f.query):
            f.warnings.append("请输入至少两个字的关键词。")
        else:
            stmt = blind_index.apply_search(stmt, index_key, f.query, Report.id)
    return stmt


QUEUE_ORDER = (Report.is_open.desc(), Report.urgency_rank, Report.due_on.asc().nulls_last(), Report.id)


def queue(db: Session, staff: StaffContext, f: QueueFilter, today: date, index_key: bytes | None = None) -> QueuePage:
    stmt = _filtered(staff, f, today, index_key)
    if f.query:
        return _search_page(db, stmt, f)
    capped_count = db.scalar(select(func.count()).select_from(stmt.with_only_columns(Report.id).limit(COUNT_CAP + 1).subquery())) or 0
    total = min(capped_count, COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    rows = list(db.scalars(_with_case(stmt).order_by(*QUEUE_ORDER).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return QueuePage(rows, total, capped_count > COUNT_CAP, page, pages)


def _with_case(stmt: Select[tuple[Report]]) -> Select[tuple[Report]]:
    return stmt.options(selectinload(Report.case), selectinload(Report.department))


def _search_page(db: Session, stmt: Select[tuple[Report]], f: QueueFilter) -> QueuePage:
    """A search walks the blind-index join once: the ordered ids of the first SEARCH_COUNT_CAP
    matches give both the count and the page (two walks cost twice as much at a million)."""
    ids = list(db.scalars(stmt.with_only_columns(Report.id).order_by(*QUEUE_ORDER).limit(SEARCH_COUNT_CAP + 1)))
    total = min(len(ids), SEARCH_COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    wanted = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    by_id = {r.id: r for r in db.scalars(_with_case(select(Report).where(Report.id.in_(wanted))))} if wanted else {}
    return QueuePage([by_id[i] for i in wanted if i in by_id], total, len(ids) > SEARCH_COUNT_CAP, page, pages)


def counts(db: Session, staff: StaffContext, today: date) -> dict[str, int]:
    """Headline numbers for the queue header: open, overdue, due soon, supervised, escalated.
    One pass over the open rows (conditional aggregates, index-only on PostgreSQL) plus the
    escalated count from its partial index."""
    soon = today + timedelta(days=3)
    row = db.execute(
        select(func.count(),
               func.count().filter(Report.due_on < today),
               func.count().filter(Report.due_on >= today, Report.due_on <= soon),
               func.count().filter(Report.supervised.is_(True)))
        .select_from(Report).where(visible_clause(staff), Report.is_open.is_(True))
    ).one()
    escalated = db.scalar(select(func.count()).select_from(Report).join(CaseRecord, CaseRecord.report_id == Report.id)
                          .where(visible_clause(staff), Report.is_open.is_(True), CaseRecord.escalation > 0)) or 0
    return {"open": row[0], "overdue": row[1], "due_soon": row[2], "supervised": row[3], "escalated": escalated}


OPEN = OPEN_STATES


_COUNTS_CACHE: TTLCache[dict[str, int]] = TTLCache(max_entries=1000)
COUNTS_TTL_S = 60.0


def cached_counts(db: Session, staff: StaffContext, today: date, ttl_s: float = COUNTS_TTL_S) -> dict[str, int]:
    """``counts`` shared by everyone with the same view for up to a minute (per worker): the
    header figures of the coordinating office's queue cost ~40 ms at a million reports, and
    every page shows them; the queue rows themselves are always live."""
    scope = ("dept", staff.department_id) if staff.role in ("handler", "head") else ("all", staff.role in ("coordinator", "auditor"))
    return _COUNTS_CACHE.get_or_compute((*scope, today), ttl_s, lambda: counts(db, staff, today))
