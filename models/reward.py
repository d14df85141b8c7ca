"""Reporting rewards (举报奖励): the approval chain, the reporter's claim, the payout, budgets.

Amounts, rule-set codes, the computed quote and who approved are official records kept in clear:
finance approves them and auditors check them without decrypting any report. What the claimant
enters to be paid (payee name, ID number, bank account) is sealed to the finance office's key
(HPKE, see secure_store.envelope) — no department and no administrator can open it. The claim
code an anonymous reporter shows at the counter is stored only as a keyed hash.

"No report is paid twice" is a database rule, not only a check: ``reward_payout.report_id`` is
unique, and so is a live ``reward`` per report (a partial unique index over the statuses that are
still in play).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

# Statuses whose reward still stands; at most one per report (partial unique index below).
LIVE_STATUSES = ("proposed", "head_approved", "approved", "claimed", "paid")
_LIVE_SQL = "status IN ('proposed', 'head_approved', 'approved', 'claimed', 'paid')"


class Reward(Base):
    """One reward decision for one report, from the handler's proposal to payment or forfeit."""

    __tablename__ = "reward"
    __table_args__ = (
        Index("uq_reward_live_report", "report_id", unique=True,
              postgresql_where=text(_LIVE_SQL), sqlite_where=text(_LIVE_SQL)),
        Index("ix_reward_status", "status", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # 谁受理、谁奖励
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    rule_set: Mapped[str] = mapped_column(String(20))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # the quote's input, as recorded on the case
    quote: Mapped[dict[str, Any]] = mapped_column(JSON)  # the computed quote with its citations
    amount_yuan: Mapped[int]
    budget_year: Mapped[int | None] = mapped_column()  # set at finance approval
    proposed_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    head_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    head_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finance_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    finance_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal_reason: Mapped[str | None] = mapped_column(String(500))  # written for the record, not quoting the report
    # the notice and the claim window
    notice_on: Mapped[date | None] = mapped_column(Date)
    claim_due: Mapped[date | None] = mapped_column(Date)
    extension_days: Mapped[int] = mapped_column(default=0)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    extension_requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    extension_approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # the claim (by the reporter, from the receipt portal)
    claim_method: Mapped[str | None] = mapped_column(String(10))  # bank | counter
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sealed_payee: Mapped[bytes | None] = mapped_column(LargeBinary)  # HPKE to the finance office key
    claim_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    declaration: Mapped[bool] = mapped_column(default=False)  # not staff with safety duties, nor a relative
    forfeited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RewardPayout(Base):
    """The payment as finance recorded it. One per report, enforced by the database."""

    __tablename__ = "reward_payout"
    __table_args__ = (UniqueConstraint("report_id"), UniqueConstraint("reward_id"), UniqueConstraint("voucher_no"))

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id", ondelete="RESTRICT"))
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="RESTRICT"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    voucher_no: Mapped[str] = mapped_column(String(40))
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    amount_yuan: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RewardBudget(Base):
    """A department's reward budget for one calendar year (yuan)."""

    __tablename__ = "reward_budget"
    __table_args__ = (UniqueConstraint("department_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    year: Mapped[int]
    amount_yuan: Mapped[int]
    set_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
