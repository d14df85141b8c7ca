"""挂牌督办 (supervision by the coordinating office) and automatic escalation of late cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import clock
from cases.calendar import today_cst
from cases.desk import DEPARTMENT_ROLES, Desk
from cases.handling import comment
from cases.lifecycle import _reason
from cases.states import OPEN_STATES, CaseError
from models import CaseRecord, Report, ReportEvent, Supervision


def current(db: Session, report: Report) -> Supervision | None:
    return db.scalar(select(Supervision).where(Supervision.report_id == report.id, Supervision.ended_at.is_(None)))


def supervise(desk: Desk, report: Report, due: date, progress_every_days: int = 7) -> Supervision:
    desk.require(desk.staff.is_coordinator, "只有区安委会办公室可以挂牌督办。")
    if report.status not in OPEN_STATES:
        raise CaseError("已办结的案件不能挂牌督办。")
    if current(desk.db, report) is not None:
        raise CaseError("该案件已在督办中。")
    if due < desk.today:
        raise CaseError("督办期限不能早于今天。", "due")
    if not 1 <= progress_every_days <= 60:
        raise CaseError("进展报送周期应为1至60天。", "progress_every_days")
    sup = Supervision(report_id=report.id, started_by=desk.staff.user_id, started_at=desk.now, due_on=due,
                      progress_every_days=progress_every_days)
    desk.db.add(sup)
    report.supervised = True
    clock.refresh_due(report, due)
    desk.event(report, "supervised", False)
    desk.audit("supervise", report, due=due.isoformat(), every_days=progress_every_days)
    return sup


def report_progress(desk: Desk, report: Report, text: str) -> None:
    desk.require_role(report, DEPARTMENT_ROLES)
    sup = current(desk.db, report)
    if sup is None:
        raise CaseError("该案件未挂牌督办。")
    comment(desk, report, _reason(text, "progress", 2), kind="progress")
    sup.last_progress_at = desk.now


def end_supervision(desk: Desk, report: Report) -> None:
    desk.require(desk.staff.is_coordinator, "只有区安委会办公室可以解除督办。")
    sup = current(desk.db, report)
    if sup is None:
        raise CaseError("该案件未挂牌督办。")
    sup.ended_at = desk.now
    report.supervised = False
    clock.refresh_due(report)
    desk.audit("supervise_end", report)


def progress_late(sup: Supervision, now: datetime) -> bool:
    """A progress note is owed every ``progress_every_days`` since the start or the last note."""
    last = sup.last_progress_at or sup.started_at
    return now - last > timedelta(days=sup.progress_every_days)


@dataclass(frozen=True)
class EscalationResult:
    to_head: int
    to_coordination: int


def escalate(db: Session, now: datetime, near_days: int = 3) -> EscalationResult:
    """Raise the escalation level of late cases (idempotent; run from cron or housekeeping):
    level 1 tells the department head (due within ``near_days`` or overdue), level 2 the
    coordinating office (overdue). Queues show the level; the timeline records when."""
    today = today_cst(now)
    counts = []
    for level, limit in ((2, today - timedelta(days=1)), (1, today + timedelta(days=near_days))):
        ids = list(db.scalars(
            select(Report.id).join(CaseRecord, CaseRecord.report_id == Report.id)
            .where(Report.is_open, Report.due_on.is_not(None), Report.due_on <= limit, CaseRecord.escalation < level)
        ))
        if ids:
            db.execute(update(CaseRecord).where(CaseRecord.report_id.in_(ids)).values(escalation=level))
            kind = "escalated_coordination" if level == 2 else "escalated_head"
            db.add_all([ReportEvent(report_id=i, kind=kind, at=now, public=False) for i in ids])
        counts.append(len(ids))
    db.commit()
    return EscalationResult(to_head=counts[1], to_coordination=counts[0])
