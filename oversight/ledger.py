"""隐患台账: every confirmed hazard with where, who, how serious, and how far its rectification is.

A hazard is a report checked as 属实/部分属实 with a hazard level of 重大 or 一般 (the same
definition the statistics divide by). Everything shown is official case metadata: the checked
unit's name, the 五落实 *status* (which of the five items are recorded, never their text), dates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from cases.calendar import CST
from cases.desk import StaffContext
from cases.states import RECTIFICATION_FIELDS
from models import CaseRecord, Report
from oversight.stats import confirmed_hazard, department_scope

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
STATES = {"pending": "待下达整改", "rectifying": "整改中", "overdue": "逾期未销号", "signed_off": "已验收销号"}
LEVELS = {"major": "重大", "general": "一般"}


@dataclass(frozen=True)
class LedgerFilter:
    """``start``/``end`` bound the date the hazard was found (核查认定日, CST)."""

    start: date | None = None
    end: date | None = None
    department_id: int | None = None
    town: str | None = None
    sector: str | None = None
    level: str | None = None
    state: str | None = None
    page: int = 1


def scoped(staff: StaffContext, f: LedgerFilter) -> LedgerFilter:
    return replace(f, department_id=department_scope(staff, f.department_id))


@dataclass(frozen=True)
class LedgerRow:
    number: str
    department_id: int
    sector: str | None
    town: str | None
    enterprise: str | None
    level: str
    found_on: date | None
    deadline: date | None
    five: str
    signed_off_on: date | None
    state: str


@dataclass
class LedgerPage:
    rows: list[LedgerRow]
    total: int
    major: int
    signed_off: int
    overdue: int
    page: int
    pages: int


def _local_day(at: datetime | None) -> date | None:
    return at.astimezone(CST).date() if at is not None else None


def five_status(plan: dict[str, Any] | None) -> str:
    """五落实 status from the recorded plan: which items exist, never what they say."""
    if not plan:
        return "未下达"
    missing = [label for key, label in RECTIFICATION_FIELDS.items() if not str(plan.get(key) or "").strip()]
    return "五落实齐全" if not missing else "缺" + "、".join(missing)


def state_of(signed_off_at: datetime | None, due: date | None, today: date) -> str:
    if signed_off_at is not None:
        return "signed_off"
    if due is None:
        return "pending"
    return "overdue" if due < today else "rectifying"


def _conditions(f: LedgerFilter, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [confirmed_hazard()]
    if f.start:
        out.append(CaseRecord.checked_at >= datetime.combine(f.start, time.min, tzinfo=CST))
    if f.end:
        out.append(CaseRecord.checked_at < datetime.combine(f.end + timedelta(days=1), time.min, tzinfo=CST))
    if f.department_id is not None:
        out.append(Report.department_id == f.department_id)
    if f.town:
        out.append(Report.town_code == f.town)
    if f.sector:
        out.append(Report.sector == f.sector)
    if f.level:
        out.append(CaseRecord.hazard_level == f.level)
    signed, due = CaseRecord.signed_off_at, CaseRecord.rectification_due
    if f.state == "signed_off":
        out.append(signed.is_not(None))
    elif f.state == "pending":
        out.append(and_(signed.is_(None), due.is_(None)))
    elif f.state == "overdue":
        out.append(and_(signed.is_(None), due < today))
    elif f.state == "rectifying":
        out.append(and_(signed.is_(None), due >= today))
    return out


_COLUMNS = (Report.number, Report.department_id, Report.sector, Report.town_code, CaseRecord.enterprise_name,
            CaseRecord.hazard_level, CaseRecord.checked_at, CaseRecord.rectification_due, CaseRecord.rectification,
            CaseRecord.signed_off_at)


def _row(r: Any, today: date) -> LedgerRow:
    return LedgerRow(number=r[0], department_id=r[1], sector=r[2], town=r[3], enterprise=r[4], level=r[5],
                     found_on=_local_day(r[6]), deadline=r[7], five=five_status(r[8]), signed_off_on=_local_day(r[9]),
                     state=state_of(r[9], r[7], today))


def _base(f: LedgerFilter, today: date, counting: bool = False) -> Any:
    """Counting with no report-side filter reads only the partial hazard index of case_record."""
    if counting and f.department_id is None and not f.town and not f.sector:
        return select().select_from(CaseRecord).where(*_conditions(f, today))
    return select().select_from(Report).join(CaseRecord, CaseRecord.report_id == Report.id).where(*_conditions(f, today))


def page(db: Session, f: LedgerFilter, today: date, size: int = PAGE_SIZE) -> LedgerPage:
    """One page (newest finding first) and the totals of everything the filter matches."""
    signed, due = CaseRecord.signed_off_at, CaseRecord.rectification_due
    total, major, done, late = db.execute(_base(f, today, counting=True).add_columns(
        func.count(), func.count().filter(CaseRecord.hazard_level == "major"), func.count(signed),
        func.count().filter(signed.is_(None), due < today))).one()
    pages = max(1, -(-int(total) // size))
    p = min(max(1, f.page), pages)
    stmt = _base(f, today).add_columns(*_COLUMNS).order_by(CaseRecord.checked_at.desc(), Report.id.desc())
    rows = [_row(r, today) for r in db.execute(stmt.limit(size).offset((p - 1) * size))]
    return LedgerPage(rows, int(total), int(major), int(done), int(late), p, pages)


def all_rows(db: Session, f: LedgerFilter, today: date, limit: int = EXPORT_LIMIT) -> list[LedgerRow]:
    """Every matching hazard for the export, oldest finding first (the order an office files them)."""
    stmt = _base(f, today).add_columns(*_COLUMNS).order_by(CaseRecord.checked_at, Report.id).limit(limit)
    return [_row(r, today) for r in db.execute(stmt)]


HEADERS = ("序号", "举报编号", "责任部门", "行业领域", "乡镇（街道）", "企业（单位）名称", "隐患级别", "发现日期",
           "整改期限", "五落实情况", "验收销号日期", "整改状态")
WIDTHS = (6, 22, 18, 16, 14, 30, 8, 12, 12, 20, 14, 12)


def to_xlsx(rows: list[LedgerRow], labels: Any, scope: str, period: str, today: date) -> bytes:
    """The ledger as an office files it: one line per hazard, then the totals line."""
    from oversight import xlsx

    wb = xlsx.new_workbook()
    body = [(i, r.number, labels.departments.get(r.department_id, ""), labels.name("sector", r.sector),
             labels.name("town", r.town), r.enterprise or "", LEVELS.get(r.level, r.level), r.found_on, r.deadline,
             r.five, r.signed_off_on, STATES[r.state]) for i, r in enumerate(rows, start=1)]
    major = sum(r.level == "major" for r in rows)
    done = sum(r.state == "signed_off" for r in rows)
    late = sum(r.state == "overdue" for r in rows)
    rate = f"{done / len(rows):.1%}" if rows else "—"
    footer = [f"合计：隐患 {len(rows)} 项（重大 {major} 项、一般 {len(rows) - major} 项），已验收销号 {done} 项，"
              f"逾期未销号 {late} 项，整改销号率 {rate}",
              "说明：隐患指核查属实（含部分属实）并认定为重大或一般事故隐患的举报事项；本表不含举报内容和举报人信息。"]
    xlsx.sheet(wb, "隐患台账", f"{labels.district}安全生产举报隐患排查整改台账",
               f"填报范围：{scope}    发现日期：{period}    导出日期：{today.isoformat()}", HEADERS, body, WIDTHS, footer)
    return xlsx.to_bytes(wb)
