"""What the finance screens list: approvals waiting, payouts due, claims expiring, budget use per
department and year, and the payouts of a period (for the XLSX export).

Everything here is reward metadata — amounts, rule sets, dates, who approved — and the report's
number, department and checked type. Finance never sees what the reporter wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.rewards.workflow import COMMITTED, IN_FLIGHT
from models import Department, Report, Reward, RewardBudget, RewardPayout, StaffUser

EXPIRING_DAYS = 14


@dataclass(frozen=True)
class Row:
    reward: Reward
    number: str
    department: str
    anonymous: bool


def _rows(db: Session, *where: Any, order: Any = None) -> list[Row]:
    stmt = (select(Reward, Report.number, Department.name, Report.anonymous)
            .join(Report, Report.id == Reward.report_id).join(Department, Department.id == Reward.department_id)
            .where(*where).order_by(order if order is not None else Reward.id))
    return [Row(r, n, d, a) for r, n, d, a in db.execute(stmt)]


def approvals(db: Session) -> list[Row]:
    return _rows(db, Reward.status == "head_approved", order=Reward.head_at)


def payouts_due(db: Session) -> list[Row]:
    return _rows(db, Reward.status == "claimed", order=Reward.claimed_at)


def expiring(db: Session, today: date) -> list[Row]:
    """Claims whose window closes within two weeks, and every pending extension request."""
    soon = today + timedelta(days=EXPIRING_DAYS)
    return _rows(db, ((Reward.status == "approved") & (Reward.claim_due <= soon))
                 | (Reward.status.in_(("approved", "forfeited")) & Reward.extension_requested_by.is_not(None)
                    & Reward.extension_approved_by.is_(None)), order=Reward.claim_due)


def by_number(db: Session, number: str) -> Row | None:
    rows = _rows(db, Report.number == number, order=Reward.id.desc())
    return rows[0] if rows else None


@dataclass(frozen=True)
class BudgetLine:
    department_id: int
    department: str
    budget: int | None
    committed: int
    paid: int
    in_flight: int

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else self.budget - self.committed


def budget_use(db: Session, year: int) -> list[BudgetLine]:
    """One line per department that receives reports: budget, committed, paid, awaiting approval."""
    status = Reward.status
    agg = dict((dept, (c, p)) for dept, c, p in db.execute(
        select(Reward.department_id,
               func.coalesce(func.sum(Reward.amount_yuan).filter(status.in_(COMMITTED)), 0),
               func.coalesce(func.sum(Reward.amount_yuan).filter(status == "paid"), 0))
        .where(Reward.budget_year == year).group_by(Reward.department_id)))
    flight = dict(db.execute(select(Reward.department_id, func.sum(Reward.amount_yuan))
                             .where(status.in_(IN_FLIGHT)).group_by(Reward.department_id)).all())
    budgets = dict(db.execute(select(RewardBudget.department_id, RewardBudget.amount_yuan).where(RewardBudget.year == year)).all())
    out = []
    for d in db.scalars(select(Department).where(Department.kind == "department").order_by(Department.id)):
        c, p = agg.get(d.id, (0, 0))
        out.append(BudgetLine(d.id, d.name, budgets.get(d.id), int(c), int(p), int(flight.get(d.id) or 0)))
    return out


HEADERS = ["序号", "支付日期", "会计凭证号", "举报编号", "承办部门", "奖励金额（元）", "支付方式", "适用规则", "财务核定日期",
           "部门审批人", "财务审批人", "登记人"]


def payouts(db: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Payouts with ``start <= paid_on <= end``, in payment order."""
    names = {u.id: u.display_name for u in db.scalars(select(StaffUser))}
    rows = db.execute(select(RewardPayout, Reward, Report.number, Department.name)
                      .join(Reward, Reward.id == RewardPayout.reward_id).join(Report, Report.id == RewardPayout.report_id)
                      .join(Department, Department.id == RewardPayout.department_id)
                      .where(RewardPayout.paid_on >= start, RewardPayout.paid_on <= end)
                      .order_by(RewardPayout.paid_on, RewardPayout.id))
    return [{"paid_on": p.paid_on, "voucher_no": p.voucher_no, "number": n, "department": dn, "amount": p.amount_yuan,
             "method": p.method, "rule_set": r.rule_set, "approved_on": r.finance_at.date() if r.finance_at else None,
             "head": names.get(r.head_by or 0, ""), "finance": names.get(r.finance_by or 0, ""),
             "recorded_by": names.get(p.recorded_by, "")} for p, r, n, dn in rows]


def payouts_xlsx(rows: list[dict[str, Any]], start: date, end: date) -> bytes:
    """The period's payouts as one XLSX sheet in the office layout (oversight.xlsx: text cells
    are text, never formulas), with a total row whose amount is a number to re-add."""
    from cases.rewards.claims import METHODS
    from oversight import xlsx

    body = [[i, r["paid_on"], r["voucher_no"], r["number"], r["department"], r["amount"],
             METHODS.get(r["method"], r["method"]), r["rule_set"], r["approved_on"], r["head"], r["finance"],
             r["recorded_by"]] for i, r in enumerate(rows, 1)]
    body.append(["合计", "", "", f"{len(rows)}笔", "", sum(r["amount"] for r in rows), "", "", "", "", "", ""])
    wb = xlsx.new_workbook()
    xlsx.sheet(wb, "奖励支付明细", "举报奖励支付明细", f"{start.isoformat()} 至 {end.isoformat()}", HEADERS, body,
               (6, 12, 18, 22, 20, 14, 14, 12, 14, 12, 12, 12))
    return xlsx.to_bytes(wb)
