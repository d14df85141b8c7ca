"""After checking: rectification (五落实), inspections, sign-off (验收销号), the reply to the
reporter, objections and re-checks (复查), closing, merging duplicates, comments and messages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from cases import states
from cases.desk import CASE_READERS, DEPARTMENT_ROLES, Desk
from cases.lifecycle import _expect, _reason, _transition
from cases.states import CaseError
from cases.text import seal_text, send_to_reporter
from models import CaseComment, Inspection, Report
from models.base import utcnow


def order_rectification(desk: Desk, report: Report, plan: dict[str, str], due: date) -> None:
    """责令整改 with all five implementations recorded (责任人、措施、资金、期限、预案)."""
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "checked")
    case = report.case
    assert case is not None
    if case.conclusion == "unfounded" or case.hazard_level == "none":
        raise CaseError("核查不属实或无隐患，无需整改。")
    clean = {k: (plan.get(k) or "").strip()[:500] for k in states.RECTIFICATION_FIELDS if k != "deadline"}
    for key, label in states.RECTIFICATION_FIELDS.items():
        if key != "deadline" and not clean[key]:
            raise CaseError(f"五落实不完整：请填写{label}。", f"plan_{key}")
    if due < desk.today:
        raise CaseError("整改期限不能早于今天。", "plan_deadline")
    clean["deadline"] = due.isoformat()
    case.rectification = clean
    case.rectification_due = due
    _transition(desk, report, "rectifying", "rectifying", due=due.isoformat())


def record_inspection(desk: Desk, report: Report, result: str, note: str, on: date | None = None) -> None:
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "rectifying")
    if result not in states.INSPECTION_RESULTS:
        raise CaseError("请选择复查结果。", "result")
    blob, epoch = seal_text(report, desk.keys(report), "inspection", _reason(note, "note", 2))
    desk.db.add(Inspection(report_id=report.id, inspected_on=on or desk.today, result=result, sealed_note=blob,
                           key_epoch=epoch, recorded_by=desk.staff.user_id))
    desk.event(report, "inspection", False)
    desk.audit("inspection", report, result=result)


def sign_off(desk: Desk, report: Report) -> None:
    """验收销号 by the department head, only after the latest inspection passed."""
    desk.require_role(report, {"head"})
    _expect(report, "rectifying")
    latest = desk.db.scalar(select(Inspection).where(Inspection.report_id == report.id)
                            .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()).limit(1))
    if latest is None or latest.result != "passed":
        raise CaseError("最近一次复查未验收合格，不能销号。")
    assert report.case is not None
    report.case.signed_off_at = desk.now
    report.case.signed_off_by = desk.staff.user_id
    _transition(desk, report, "signed_off", "signed_off")


def reply(desk: Desk, report: Report, *, decision: str, reward_eligible: bool) -> None:
    """The written reply (结论、简要情况、处理决定、是否符合奖励条件), due 10 days after checking;
    it opens the reporter's 10-day objection window."""
    desk.require_role(report, DEPARTMENT_ROLES)
    _expect(report, "checked", "rectifying", "signed_off")
    case = report.case
    assert case is not None and case.conclusion is not None
    if case.replied_at is not None:
        raise CaseError("已经答复过举报人。")
    keys = desk.keys(report)
    from cases.text import open_text

    summary = open_text(report, keys, "check-summary", case.sealed_summary, case.summary_epoch) or ""
    decision = _reason(decision, "decision", 2)
    body = (f"核查结论：{states.CONCLUSIONS[case.conclusion]}\n简要情况：{summary}\n处理决定：{decision}\n"
            f"是否符合奖励条件：{'是' if reward_eligible else '否'}\n"
            f"如对核查结果有异议，可在{desk.limits.objection_days}日内通过查询码提出。")
    send_to_reporter(desk, report, body, keys)
    case.replied_at = desk.now
    case.reward_eligible = reward_eligible
    case.objection_due = desk.calendar.deadline(desk.today, desk.limits.objection_days)
    _transition(desk, report, report.status, "replied", reward_eligible=reward_eligible)


def close(desk: Desk, report: Report) -> None:
    """办结: after sign-off, or straight after an unfounded / no-hazard check; the reply must be sent."""
    desk.require_role(report, DEPARTMENT_ROLES)
    case = report.case
    assert case is not None
    if report.status == "checked" and case.conclusion != "unfounded" and case.hazard_level != "none":
        raise CaseError("属实的隐患须整改并验收销号后才能办结。")
    _expect(report, "checked", "signed_off")
    if case.replied_at is None:
        raise CaseError("请先答复举报人。")
    case.closed_at = desk.now
    _transition(desk, report, "closed", "closed")


def object_to_result(db, audit_key: bytes, report: Report, now: datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    """The reporter objects (异议) within the window: a re-check (复查) due in 30 days opens.
    One objection per report; it is raised from the receipt portal, so the actor is the reporter."""
    from audit.chain import Actor, record
    from cases.calendar import today_cst
    from cases.clock import default_calendar, default_limits, refresh_due
    from models import ReportEvent

    now = now or utcnow()
    case = report.case
    if case is None or case.replied_at is None or case.objection_due is None:
        raise CaseError("案件尚未答复，暂不能提出异议。")
    if today_cst(now) > case.objection_due:
        raise CaseError("已超过异议期限。")
    if case.rechecks:
        raise CaseError("每件举报只能提出一次异议。")
    old = report.status
    case.objected_at = now
    case.rechecks += 1
    case.recheck_due = default_calendar().deadline(today_cst(now), default_limits().recheck_days)
    case.closed_at = None
    report.status = "rechecking"
    refresh_due(report)
    report.events.append(ReportEvent(kind="objection", at=now, public=True))
    record(db, audit_key, actor=Actor.reporter(), action="transition", target_type="report", target_id=report.number,
           details={"from_state": old, "to_state": "rechecking"}, at=now)


def merge(desk: Desk, duplicate: Report, primary: Report) -> None:
    """Merge a duplicate into the first accepted report (only that one can earn a reward)."""
    desk.require_role(duplicate, DEPARTMENT_ROLES | {"coordinator"})
    desk.require_role(primary, DEPARTMENT_ROLES | {"coordinator"})
    _expect(duplicate, "received", "accepted", "checking")
    if duplicate.id == primary.id or primary.status in ("merged", "not_accepted"):
        raise CaseError("请选择一件有效的主案件。", "primary")
    pa = primary.case.accepted_at if primary.case else None
    da = duplicate.case.accepted_at if duplicate.case else None
    if pa is None:
        raise CaseError("主案件须为已受理的举报。", "primary")
    if da is not None and da < pa:
        raise CaseError("被合并的举报受理在先，应以它为主案件。", "primary")
    duplicate.primary_report_id = primary.id
    assert duplicate.case is not None
    duplicate.case.closed_at = desk.now
    send_to_reporter(desk, duplicate, f"您的举报与已受理的举报 {primary.number} 为同一事项，已合并办理。")
    _transition(desk, duplicate, "merged", "merged", primary=primary.number)


def comment(desk: Desk, report: Report, text: str, kind: str = "comment") -> CaseComment:
    """An internal comment (never shown to the reporter)."""
    desk.require_role(report, CASE_READERS)
    text = _reason(text, "comment", 1)
    blob, epoch = seal_text(report, desk.keys(report), "comment", text)
    row = CaseComment(report_id=report.id, kind=kind, author_id=desk.staff.user_id, sealed_body=blob, key_epoch=epoch,
                      created_at=desk.now)
    desk.db.add(row)
    desk.audit("comment", report, kind=kind)
    return row


def message_reporter(desk: Desk, report: Report, text: str) -> None:
    desk.require_role(report, DEPARTMENT_ROLES | {"coordinator"})
    if report.status in ("merged",):
        raise CaseError("已合并的举报请在主案件中联系举报人。")
    send_to_reporter(desk, report, _reason(text, "message", 1))
