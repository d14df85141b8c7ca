"""Finance screens (views only; the rules are in cases/rewards): approvals waiting, payouts due,
claims expiring, budget use per department and year, one reward's page with its actions, and the
XLSX export of a period's payouts. Auditors may read the screens and the export, never act.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from cases.rewards import claims, finance, workflow
from cases.states import CaseError, Forbidden
from models import Department, Report, Reward, StaffUser
from portal import get_db, state
from portal.staff_session import desk, staff, staff_required

bp = Blueprint("finance", __name__, url_prefix="/staff/finance")
READERS = ("finance", "auditor")


def _year() -> int:
    raw = request.values.get("year", "")
    return int(raw) if raw.isdigit() and 2018 <= int(raw) <= 2100 else desk().today.year


def _dashboard(errors: dict[str, str] | None = None, values: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    today = desk().today
    year = _year()
    departments = list(db.scalars(select(Department).where(Department.kind == "department").order_by(Department.id)))
    return render_template("staff/finance.html", me=staff(), today=today, year=year, approvals=finance.approvals(db),
                           due=finance.payouts_due(db), expiring=finance.expiring(db, today), budgets=finance.budget_use(db, year),
                           departments=departments, errors=errors or {}, values=values or {},
                           month_start=today.replace(day=1).isoformat(), today_iso=today.isoformat()), status


@bp.get("/", endpoint="home")
@staff_required(*READERS)
def home() -> tuple[str, int]:
    return _dashboard()


@bp.post("/budget")
@staff_required("finance")
def budget() -> Any:
    f = request.form
    db = get_db()
    dept = db.scalar(select(Department).where(Department.code == f.get("department", ""), Department.kind == "department"))
    raw_amount = (f.get("amount") or "").replace(",", "").replace("，", "").strip()
    try:
        if dept is None:
            raise CaseError("请选择部门。", "department")
        if not raw_amount.isdigit():
            raise CaseError("预算金额请填写整数（元）。", "amount")
        year = f.get("year", "")
        if not year.isdigit():
            raise CaseError("请填写有效年度。", "year")
        workflow.set_budget(desk(), dept.id, int(year), int(raw_amount))
        db.commit()
    except CaseError as exc:
        db.rollback()
        return _dashboard({exc.field or "budget": exc.message}, f.to_dict(), 400)
    flash(f"已设定{dept.name}{year}年度奖励预算 {int(raw_amount):,} 元。")
    return redirect(url_for("finance.home", year=year))


def _reward(number: str) -> tuple[Report, Reward, finance.Row]:
    row = finance.by_number(get_db(), number)
    if row is None:
        abort(404)
    report = get_db().scalar(select(Report).where(Report.id == row.reward.report_id))
    assert report is not None
    return report, row.reward, row


def _reward_page(number: str, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                 payee: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    from flask import get_flashed_messages

    report, reward, row = _reward(number)
    ids = {i for i in (reward.proposed_by, reward.head_by, reward.finance_by, reward.refused_by,
                       reward.extension_requested_by, reward.extension_approved_by) if i}
    names = {u.id: u.display_name for u in get_db().scalars(select(StaffUser).where(StaffUser.id.in_(ids)))} if ids else {}
    return render_template("staff/finance_reward.html", me=staff(), r=report, w=reward, row=row, names=names,
                           case=report.case, errors=errors or {}, values=values or {}, payee=payee,
                           methods=claims.METHODS, today=desk().today.isoformat(),
                           notice="；".join(get_flashed_messages())), status


@bp.get("/reward/<number>")
@staff_required(*READERS)
def reward_page(number: str) -> tuple[str, int]:
    return _reward_page(number)


def _int(raw: str | None, name: str, label: str) -> int:
    raw = (raw or "").replace(",", "").replace("，", "").strip()
    if not raw.isdigit():
        raise CaseError(f"{label}请填写整数。", name)
    return int(raw)


def _date(raw: str | None, name: str) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise CaseError("请填写有效日期（年-月-日）。", name) from None


ACTIONS = ("approve", "refuse", "extension_approve", "extension_refuse", "payee", "payout")


@bp.post("/reward/<number>/<action>")
@staff_required("finance")
def reward_action(number: str, action: str) -> Any:
    if action not in ACTIONS:
        abort(404)
    report, reward, _ = _reward(number)
    d, f, db = desk(), request.form, get_db()
    try:
        if action == "approve":
            workflow.finance_approve(d, report, reward)
            message = "已批准，奖励通知已送达举报人。"
        elif action == "refuse":
            workflow.refuse(d, report, reward, f.get("refusal_reason", ""))
            message = "已驳回。"
        elif action in ("extension_approve", "extension_refuse"):
            workflow.decide_extension(d, report, reward, action == "extension_approve")
            message = "已批准延长领取期限。" if action == "extension_approve" else "已驳回延期申请。"
        elif action == "payee":
            payee = claims.payee_details(d, report, reward)
            db.commit()
            return _reward_page(number, payee=payee)
        else:
            claims.record_payout(d, report, reward, voucher_no=f.get("voucher_no", ""), paid_on=_date(f.get("paid_on"), "paid_on"),
                                 amount=_int(f.get("amount"), "amount", "支付金额"), claim_code=f.get("claim_code", ""),
                                 identity_checked=f.get("identity_checked") == "on", mac_key=state().secrets.mac_key)
            message = "已登记支付。"
        db.commit()
    except Forbidden:
        db.rollback()
        abort(403)
    except CaseError as exc:
        db.rollback()
        db.expire_all()
        return _reward_page(number, {exc.field or action: exc.message}, f.to_dict(), status=400)
    flash(message)
    return redirect(url_for("finance.reward_page", number=number))


@bp.get("/payouts.xlsx")
@staff_required(*READERS)
def export_payouts() -> Response | tuple[str, int]:
    try:
        start, end = _date(request.args.get("start"), "start"), _date(request.args.get("end"), "end")
        if start > end:
            raise CaseError("开始日期不能晚于结束日期。", "start")
    except CaseError as exc:
        return _dashboard({exc.field or "export": exc.message}, request.args.to_dict(), 400)
    rows = finance.payouts(get_db(), start, end)
    d = desk()
    d.audit("export", None, what="reward_payouts", start=start.isoformat(), end=end.isoformat(), rows=len(rows))
    get_db().commit()
    body = finance.payouts_xlsx(rows, start, end)
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="reward-payouts-{start}-{end}.xlsx"'})
