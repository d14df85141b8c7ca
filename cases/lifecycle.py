"""Screening and checking: 受理 / 不予受理 / 移送 / 退回, 核查, extension, conclusion.

Each transition is one function that checks the state, the actor's role and department, changes
the case, records a timeline event and an audit entry, and leaves the commit to the caller (so a
refused check or a failure rolls everything back together).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from cases import clock, states
from cases.desk import DEPARTMENT_ROLES, Desk
from cases.states import CaseError
from cases.text import seal_text, send_to_reporter
from models import CaseTransfer, Department, EnforcementDecision, Report
from models.department import COORDINATION_CODE
from secure_store import report_keys


def _expect(report: Report, *allowed: str) -> None:
    if report.status not in allowed:
        raise CaseError(f"案件当前状态为“{states.STATES.get(report.status, report.status)}”，不能执行此操作。")


def _reason(text: str, field: str = "reason", minimum: int = 4) -> str:
    text = (text or "").strip()
    if len(text) < minimum:
        raise CaseError(f"请填写理由（至少{minimum}个字）。", field)
    if len(text) > 2000:
        raise CaseError("理由过长（最多2000字）。", field)
    return text


def _transition(desk: Desk, report: Report, new_status: str, event: str | None, public: bool = True, **details: object) -> None:
    old = report.status
    report.status = new_status
    clock.refresh_due(report, _supervision_due(desk, report))
    if report.case is not None and old != new_status:
        report.case.escalation = 0  # a new stage, a new clock
    if event:
        desk.event(report, event, public)
    desk.audit("transition", report, from_state=old, to_state=new_status, **details)


def _supervision_due(desk: Desk, report: Report):  # type: ignore[no-untyped-def]
    if not report.supervised:
        return None
    from models import Supervision

    return desk.db.scalar(select(Supervision.due_on).where(Supervision.report_id == report.id, Supervision.ended_at.is_(None)))


def in_department_hands(desk: Desk, report: Report) -> bool:
    return report.department.code != COORDINATION_CODE


# --- screening -----------------------------------------------------------------------------------


def accept(desk: Desk, report: Report, *, deaths_alleged: bool = False, self_reported: bool = False) -> None:
    """受理: starts the 60-day checking clock."""
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "received")
    if not in_department_hands(desk, report):
        raise CaseError("该举报尚未分派到承办部门。")
    case = report.case
    assert case is not None
    case.accepted_at = desk.now
    case.accepted_by = desk.staff.user_id
    case.deaths_alleged = deaths_alleged
    case.self_reported = self_reported
    case.check_due = desk.calendar.deadline(desk.today, desk.limits.check_days)
    _transition(desk, report, "accepted", "accepted", deaths_alleged=deaths_alleged, self_reported=self_reported)


def not_accept(desk: Desk, report: Report, reason_code: str) -> None:
    """不予受理 with one of the statutory reasons; the reporter is told why and where to go."""
    at_coordination = not in_department_hands(desk, report)
    desk.require_role(report, {"coordinator"} if at_coordination else DEPARTMENT_ROLES)
    _expect(report, "received")
    if reason_code not in states.NOT_ACCEPTED_REASONS:
        raise CaseError("请选择不予受理的法定理由。", "reason_code")
    assert report.case is not None
    report.case.not_accepted_reason = reason_code
    report.case.closed_at = desk.now
    send_to_reporter(desk, report, "不予受理告知：" + states.NOT_ACCEPTED_REASONS[reason_code][1])
    _transition(desk, report, "not_accepted", "not_accepted", reason=reason_code)


def _department(desk: Desk, code: str) -> Department:
    dept = desk.db.scalar(select(Department).where(Department.code == code, Department.active, Department.kind != "finance"))
    if dept is None:
        raise CaseError("请选择要移送的部门。", "to_department")
    return dept


def _move(desk: Desk, report: Report, to: Department, kind: str, reason: str) -> None:
    keys = desk.keys(report, with_identity=True)
    coordination = desk.coordination()
    from_id = report.department_id
    keys = report_keys.rewrap_for_move(report, keys, from_id, to, coordination)
    blob, epoch = seal_text(report, keys, "transfer-reason", reason)
    desk.db.add(CaseTransfer(report_id=report.id, kind=kind, from_department_id=from_id, to_department_id=to.id,
                             by_user_id=desk.staff.user_id, sealed_reason=blob, key_epoch=epoch, at=desk.now))
    report.department_id = to.id
    report.department = to
    report.needs_review = to.code == COORDINATION_CODE
    case = report.case
    assert case is not None
    case.transfers += 1
    case.screen_due = desk.calendar.deadline(desk.today, desk.limits.screen_working_days, "working")
    if report.status != "received":
        case.accepted_at = None
        case.check_due = None
    if to.code != COORDINATION_CODE:
        send_to_reporter(desk, report, f"您的举报已移送至{to.name}办理。", keys)
    _transition(desk, report, "received", "transferred" if kind == "transfer" else "returned", public=kind == "transfer",
                kind=kind, to_department=to.code, from_department_id=from_id, key_epoch=report.key_epoch)


def transfer(desk: Desk, report: Report, to_code: str, reason: str) -> None:
    """移送: to the competent department, with a written reason. A department may pass a report
    on once and never back to where it came from; after that only the coordinating office moves
    it, and its assignment after a rejection is final (no endless bouncing)."""
    reason = _reason(reason)
    to = _department(desk, to_code)
    if to.code == COORDINATION_CODE:
        raise CaseError("退回区安委会办公室请使用“退回”。", "to_department")
    if to.id == report.department_id:
        raise CaseError("不能移送给本部门。", "to_department")
    if desk.staff.is_coordinator:
        _expect(report, "received", "accepted")
        assert report.case is not None
        report.case.assignment_final = report.case.assignment_final or _was_rejected(desk, report)
    else:
        desk.require_role(report, DEPARTMENT_ROLES)
        _expect(report, "received")
        assert report.case is not None
        if report.case.assignment_final:
            raise CaseError("区安委会办公室已明确由本部门办理，不能再移送；如有异议请与区安委会办公室联系。")
        held = set(desk.db.scalars(select(CaseTransfer.from_department_id).where(CaseTransfer.report_id == report.id)))
        if to.id in held:
            raise CaseError("该举报已由该部门移出，不能移回；请退回区安委会办公室协调。", "to_department")
        if desk.db.scalar(select(CaseTransfer.id).where(CaseTransfer.report_id == report.id,
                                                        CaseTransfer.from_department_id == report.department_id)):
            raise CaseError("本部门已移送过该举报，请退回区安委会办公室协调。", "to_department")
    _move(desk, report, to, "transfer", reason)


def _was_rejected(desk: Desk, report: Report) -> bool:
    return desk.db.scalar(select(CaseTransfer.id).where(CaseTransfer.report_id == report.id, CaseTransfer.kind == "reject")) is not None


def reject_back(desk: Desk, report: Report, reason: str) -> None:
    """退回: the receiving department says the report is not theirs; the coordinating office decides."""
    reason = _reason(reason)
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "received")
    assert report.case is not None
    if report.case.assignment_final:
        raise CaseError("区安委会办公室已明确由本部门办理，不能再退回。")
    _move(desk, report, desk.coordination(), "reject", reason)


# --- checking ------------------------------------------------------------------------------------


def start_check(desk: Desk, report: Report) -> None:
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "accepted")
    assert report.case is not None
    report.case.check_started_at = desk.now
    _transition(desk, report, "checking", "checking")


def request_extension(desk: Desk, report: Report, days: int, reason: str) -> None:
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "accepted", "checking")
    case = report.case
    assert case is not None
    if case.extension_days or case.extension_requested_days:
        raise CaseError("核查期限只能延长一次。", "days")
    if not 1 <= days <= desk.limits.max_extension_days:
        raise CaseError(f"延长天数应为1至{desk.limits.max_extension_days}天。", "days")
    case.extension_requested_days = days
    case.extension_requested_by = desk.staff.user_id
    desk.audit("extension_request", report, days=days, reason=_reason(reason))


def approve_extension(desk: Desk, report: Report) -> None:
    """The head (not the requester) approves; the checking deadline moves by the days asked."""
    desk.require_role(report, {"head"})
    case = report.case
    assert case is not None
    if not case.extension_requested_days or case.extension_days:
        raise CaseError("没有待审批的延期申请。")
    if case.extension_requested_by == desk.staff.user_id:
        raise CaseError("延期须由申请人以外的部门负责人审批。")
    assert case.check_due is not None
    case.extension_days = case.extension_requested_days
    case.extension_approved_by = desk.staff.user_id
    case.check_due = desk.calendar.deadline(case.check_due, case.extension_days)
    clock.refresh_due(report, _supervision_due(desk, report))
    desk.event(report, "extended", False)
    desk.audit("extension_approve", report, days=case.extension_days)


@dataclass(frozen=True)
class Decision:
    kind: str
    amount_yuan: int | None = None
    document_no: str | None = None


def finish_check(desk: Desk, report: Report, *, conclusion: str, summary: str, hazard_level: str,
                 enterprise_name: str, decisions: Iterable[Decision] = ()) -> None:
    """核查完毕 with a conclusion and enforcement decisions; starts the 10-day reply clock."""
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "checking", "rechecking")
    if conclusion not in states.CONCLUSIONS:
        raise CaseError("请选择核查结论。", "conclusion")
    if hazard_level not in states.HAZARD_LEVELS:
        raise CaseError("请选择隐患等级。", "hazard_level")
    if conclusion == "unfounded" and hazard_level != "none":
        raise CaseError("核查结论为不属实时，隐患等级应为“无隐患/违法行为”。", "hazard_level")
    summary = _reason(summary, "summary")
    enterprise_name = (enterprise_name or "").strip()[:120]
    if conclusion != "unfounded" and not enterprise_name:
        raise CaseError("请填写被核查单位名称。", "enterprise_name")
    decisions = list(decisions)
    for d in decisions:
        if d.kind not in states.ENFORCEMENT_KINDS:
            raise CaseError("未知的处理决定类型。", "decisions")
        if d.kind in states.AMOUNT_KINDS and (d.amount_yuan is None or d.amount_yuan <= 0):
            raise CaseError(f"请填写{states.ENFORCEMENT_KINDS[d.kind]}金额（元）。", "decisions")
    case = report.case
    assert case is not None
    keys = desk.keys(report)
    case.sealed_summary, case.summary_epoch = seal_text(report, keys, "check-summary", summary)
    rechecked = report.status == "rechecking"
    case.conclusion = conclusion
    case.hazard_level = hazard_level
    case.enterprise_name = enterprise_name or None
    case.checked_at = desk.now
    case.replied_at = None
    case.reply_due = desk.calendar.deadline(desk.today, desk.limits.reply_days, desk.limits.reply_unit)
    for d in decisions:
        desk.db.add(EnforcementDecision(report_id=report.id, kind=d.kind, amount_yuan=d.amount_yuan,
                                        document_no=(d.document_no or None), decided_on=desk.today,
                                        recorded_by=desk.staff.user_id))
    _transition(desk, report, "checked", "rechecked" if rechecked else "checked", conclusion=conclusion,
                hazard_level=hazard_level, decisions=[d.kind for d in decisions])
