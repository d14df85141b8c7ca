"""The reward workflow: handler proposes → department head approves → finance approves (three
different people) → the reporter sees the notice → claims within 60 days → finance records the
payout; an unclaimed reward is forfeited unless an extension with a reason is approved.

The amount is never typed: the proposal records the facts the check established (the fines and
confiscations come from the case's enforcement decisions, the rule set from the acceptance
date) and the rule engine (cases.rewards.quote) computes it. Every step is a function that
checks role, department, state and the separation of duties, writes an audit entry, and leaves
the commit to the caller. Budgets are yearly per department (谁受理、谁奖励); an approval that
would exceed one is refused. Plain Python: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from cases.calendar import today_cst
from cases.desk import DEPARTMENT_ROLES, Desk
from cases.rewards.quote import Facts, FactsError, quote
from cases.rewards.rules import Params, rule_set_for
from cases.states import CaseError
from models import EnforcementDecision, Report, Reward, RewardBudget
from models.reward import LIVE_STATUSES

CLAIM_DAYS = 60  # rules.md §3.8: claim within 60 days of the notice [V~]
MAX_CLAIM_EXTENSION_DAYS = 60
COMMITTED = ("approved", "claimed", "paid")  # what counts against a budget
IN_FLIGHT = ("proposed", "head_approved")

STATUS_LABELS: dict[str, str] = {
    "proposed": "待部门负责人审批",
    "head_approved": "待财务审批",
    "approved": "已通知举报人，待领取",
    "claimed": "举报人已申领，待支付",
    "paid": "已支付",
    "refused": "未获批准",
    "forfeited": "逾期未领取，视为放弃",
}
TYPE_LABELS: dict[str, str] = {
    "major_hazard": "重大事故隐患",
    "illegal_operation": "安全生产违法行为",
    "general_hazard": "一般事故隐患（河南列举情形）",
    "concealed_accident": "瞒报、谎报事故",
}
GRADE_LABELS: dict[str, str] = {"general": "一般事故", "larger": "较大事故", "major": "重大事故", "especially_major": "特别重大事故"}


@dataclass(frozen=True)
class Recorded:
    """What the handler records about the checked matter, besides the enforcement decisions."""

    report_type: str
    internal: bool = False
    listed_situation: bool = False
    deaths_concealed: int = 0
    accident_grade: str | None = None
    joint_reporters: int = 1
    already_known: bool = False


def _live(desk: Desk, report: Report) -> Reward | None:
    return desk.db.scalar(select(Reward).where(Reward.report_id == report.id, Reward.status.in_(LIVE_STATUSES)))


def current(db: Any, report: Report) -> Reward | None:
    """The reward that stands for a report, else the latest refused or forfeited one."""
    return db.scalar(select(Reward).where(Reward.report_id == report.id)
                     .order_by(Reward.status.in_(LIVE_STATUSES).desc(), Reward.id.desc()).limit(1))


def case_actions(desk: Desk, report: Report) -> set[str]:
    """Which reward forms the case page offers (the functions still check everything)."""
    role, case = desk.staff.role, report.case
    if role not in DEPARTMENT_ROLES or case is None:
        return set()
    reward = current(desk.db, report)
    live = reward is not None and reward.status in LIVE_STATUSES
    out: set[str] = set()
    if not live and case.conclusion in ("confirmed", "partly") and case.replied_at is not None and case.reward_eligible:
        out.add("reward_propose")
    if reward is not None and reward.status == "proposed" and role == "head" and reward.proposed_by != desk.staff.user_id:
        out |= {"reward_approve", "reward_refuse"}
    if reward is not None and reward.status in ("approved", "forfeited") and reward.extension_requested_by is None:
        out.add("reward_extension")
    return out


def default_type(report: Report) -> str:
    """The checked type to preselect: the check's hazard level, or triage's type if it is rewardable."""
    case = report.case
    if report.report_type in ("illegal_operation", "concealed_accident"):
        return report.report_type
    return "general_hazard" if case is not None and case.hazard_level == "general" else "major_hazard"


def case_facts(desk: Desk, report: Report, rec: Recorded) -> Facts:
    """The quote's facts from the case record: fines, confiscations, conclusion, merge, dates."""
    case = report.case
    assert case is not None
    if case.accepted_at is None:
        raise CaseError("该举报未受理，不能申请奖励。")
    sums = dict(desk.db.execute(
        select(EnforcementDecision.kind, func.coalesce(func.sum(EnforcementDecision.amount_yuan), 0))
        .where(EnforcementDecision.report_id == report.id, EnforcementDecision.kind.in_(("fine", "confiscation")))
        .group_by(EnforcementDecision.kind)).all())
    try:
        return Facts(
            report_type=rec.report_type, rule_set=rule_set_for(today_cst(case.accepted_at)).code,
            penalty_amount=int(sums.get("fine", 0)), confiscated_amount=int(sums.get("confiscation", 0)),
            listed_situation=rec.listed_situation, deaths_concealed=rec.deaths_concealed,
            accident_grade=rec.accident_grade if rec.report_type == "concealed_accident" else None,
            internal=rec.internal, joint_reporters=rec.joint_reporters,
            first_accepted=report.primary_report_id is None and report.status != "merged",
            already_known=rec.already_known, excluded_person=False,
            confirmed=case.conclusion in ("confirmed", "partly"),
        )
    except FactsError as exc:
        raise CaseError(exc.zh, "reward_facts") from exc
    except LookupError as exc:
        raise CaseError("受理日期早于现行奖励办法，无法适用规则。", "reward_facts") from exc


def propose(desk: Desk, report: Report, rec: Recorded, params: Params | None = None) -> Reward:
    """The handler (or head) proposes; the amount comes from the rule engine."""
    desk.require_role(report, DEPARTMENT_ROLES)
    case = report.case
    assert case is not None
    if rec.report_type not in TYPE_LABELS:
        raise CaseError("请选择经核查认定的举报类型。", "report_type")
    if case.conclusion not in ("confirmed", "partly"):
        raise CaseError("核查属实或部分属实的举报才能申请奖励。")
    if case.replied_at is None:
        raise CaseError("请先答复举报人（答复须说明是否符合奖励条件）。")
    if not case.reward_eligible:
        raise CaseError("答复举报人时已认定不符合奖励条件。")
    if _live(desk, report) is not None:
        raise CaseError("该举报已有奖励申请，同一举报只能奖励一次。")
    facts = case_facts(desk, report, rec)
    q = quote(facts, params)
    if not q.eligible:
        raise CaseError("不符合奖励条件：" + "；".join(r.reason for r in q.reasons_ineligible), "reward_facts")
    facts_dict = {k: (int(v) if k in ("penalty_amount", "confiscated_amount") else v) for k, v in facts.__dict__.items()}
    reward = Reward(report_id=report.id, department_id=report.department_id, status="proposed", rule_set=q.rule_set,
                    facts=facts_dict, quote=q.to_dict(), amount_yuan=q.amount, proposed_by=desk.staff.user_id,
                    proposed_at=desk.now)
    desk.db.add(reward)
    desk.db.flush()
    desk.event(report, "reward_proposed", False)
    desk.audit("reward_propose", report, reward=reward.id, amount=q.amount, rule_set=q.rule_set)
    return reward


def _separate(desk: Desk, reward: Reward) -> None:
    if desk.staff.user_id in (reward.proposed_by, reward.head_by):
        raise CaseError("奖励的申请、部门审批、财务审批须由三名不同人员完成，您已参与本奖励的前一环节。")


def head_approve(desk: Desk, report: Report) -> Reward:
    desk.require_role(report, {"head"})
    reward = _live(desk, report)
    if reward is None or reward.status != "proposed":
        raise CaseError("没有待审批的奖励申请。")
    _separate(desk, reward)
    check_budget(desk, reward, today_cst(desk.now).year)
    reward.status, reward.head_by, reward.head_at = "head_approved", desk.staff.user_id, desk.now
    desk.audit("reward_head_approve", report, reward=reward.id, amount=reward.amount_yuan)
    return reward


def refuse(desk: Desk, report: Report, reward: Reward, reason: str) -> None:
    """The head refuses a proposal, or finance one the head approved; a new proposal may follow."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise CaseError("请填写不予批准的理由（至少4个字）。", "refusal_reason")
    if reward.status == "proposed":
        desk.require_role(report, {"head"})
    elif reward.status == "head_approved":
        desk.require(desk.staff.role == "finance")
    else:
        raise CaseError("该奖励当前不能驳回。")
    _separate(desk, reward)
    reward.status, reward.refused_by, reward.refused_at = "refused", desk.staff.user_id, desk.now
    reward.refusal_reason = reason[:500]
    desk.audit("reward_refuse", report, reward=reward.id, stage="head" if reward.head_by is None else "finance")


def committed(db: Any, department_id: int, year: int) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(Reward.amount_yuan), 0)).where(
        Reward.department_id == department_id, Reward.budget_year == year, Reward.status.in_(COMMITTED))) or 0)


def check_budget(desk: Desk, reward: Reward, year: int, lock: bool = False) -> None:
    """Refuse an approval the department's budget for ``year`` cannot carry. ``lock`` takes the
    budget row FOR UPDATE (PostgreSQL) so two finance approvals cannot both spend the last yuan."""
    stmt = select(RewardBudget).where(RewardBudget.department_id == reward.department_id, RewardBudget.year == year)
    budget = desk.db.scalar(stmt.with_for_update() if lock else stmt)
    if budget is None:
        raise CaseError(f"本部门{year}年度举报奖励预算尚未设定，请财务部门先设定预算。")
    used = committed(desk.db, reward.department_id, year)
    if used + reward.amount_yuan > budget.amount_yuan:
        raise CaseError(f"超出本部门{year}年度举报奖励预算：预算{budget.amount_yuan:,}元，已核定{used:,}元，"
                        f"剩余{budget.amount_yuan - used:,}元，本笔{reward.amount_yuan:,}元。请先调整预算。")


def finance_approve(desk: Desk, report: Report, reward: Reward) -> None:
    """Finance approves: the budget is charged, the notice goes to the reporter, 60 days to claim."""
    desk.require(desk.staff.role == "finance")
    if reward.status != "head_approved":
        raise CaseError("该奖励不在待财务审批状态。")
    _separate(desk, reward)
    year = today_cst(desk.now).year
    check_budget(desk, reward, year, lock=True)
    reward.status, reward.finance_by, reward.finance_at, reward.budget_year = "approved", desk.staff.user_id, desk.now, year
    reward.notice_on = desk.today
    reward.claim_due = desk.calendar.deadline(desk.today, CLAIM_DAYS)
    desk.event(report, "reward_notice", True)
    desk.audit("reward_finance_approve", report, reward=reward.id, amount=reward.amount_yuan, budget_year=year,
               claim_due=reward.claim_due.isoformat())


def request_extension(desk: Desk, report: Report, days: int, reason: str) -> Reward:
    """The department asks to extend the claim window (e.g. the reporter was in hospital), also
    after the reward was forfeited: finance's approval then reinstates it."""
    desk.require_role(report, DEPARTMENT_ROLES)
    reward = current(desk.db, report)
    if reward is None or reward.status not in ("approved", "forfeited"):
        raise CaseError("只有待领取或逾期未领取的奖励可以申请延长领取期限。")
    if reward.extension_requested_by is not None:
        raise CaseError("领取期限只能申请延长一次。", "days")
    if not 1 <= days <= MAX_CLAIM_EXTENSION_DAYS:
        raise CaseError(f"延长天数应为1至{MAX_CLAIM_EXTENSION_DAYS}天。", "days")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise CaseError("请填写延期理由（至少4个字）。", "reason")
    reward.extension_days, reward.extension_reason, reward.extension_requested_by = days, reason[:500], desk.staff.user_id
    desk.audit("reward_extension_request", report, reward=reward.id, days=days)
    return reward


def decide_extension(desk: Desk, report: Report, reward: Reward, approve: bool) -> None:
    """Finance approves (the window moves by the days asked) or refuses the extension."""
    desk.require(desk.staff.role == "finance")
    if reward.status not in ("approved", "forfeited") or reward.extension_requested_by is None \
            or reward.extension_approved_by is not None:
        raise CaseError("没有待审批的延期申请。")
    if reward.extension_requested_by == desk.staff.user_id:
        raise CaseError("延期须由申请人以外的人员审批。")
    if not approve:
        desk.audit("reward_extension_refuse", report, reward=reward.id)
        reward.extension_requested_by, reward.extension_days = None, 0
        return
    assert reward.claim_due is not None
    if reward.status == "forfeited":  # asked in time, decided late: the reward stands again
        check_budget(desk, reward, reward.budget_year or desk.today.year, lock=True)
        reward.status, reward.forfeited_at = "approved", None
    reward.extension_approved_by = desk.staff.user_id
    reward.claim_due = desk.calendar.deadline(max(reward.claim_due, desk.today), reward.extension_days)
    desk.event(report, "reward_extended", True)
    desk.audit("reward_extension_approve", report, reward=reward.id, days=reward.extension_days,
               claim_due=reward.claim_due.isoformat())


def claim_open(reward: Reward | None, today: date) -> bool:
    return reward is not None and reward.status == "approved" and reward.claim_due is not None and today <= reward.claim_due


def set_budget(desk: Desk, department_id: int, year: int, amount: int) -> RewardBudget:
    desk.require(desk.staff.role == "finance")
    if not 2018 <= year <= 2100:
        raise CaseError("请填写有效年度。", "year")
    if not 0 <= amount <= 10**10:
        raise CaseError("预算金额应为0至100亿元之间的整数。", "amount")
    used = committed(desk.db, department_id, year)
    if amount < used:
        raise CaseError(f"预算不能低于该年度已核定的奖励金额（{used:,}元）。", "amount")
    row = desk.db.scalar(select(RewardBudget).where(RewardBudget.department_id == department_id, RewardBudget.year == year))
    old = row.amount_yuan if row else None
    if row is None:
        row = RewardBudget(department_id=department_id, year=year, amount_yuan=amount, set_by=desk.staff.user_id, set_at=desk.now)
        desk.db.add(row)
    else:
        row.amount_yuan, row.set_by, row.set_at = amount, desk.staff.user_id, desk.now
    desk.audit("reward_budget_set", None, department_id=department_id, year=year, amount=amount, previous=old)
    return row
