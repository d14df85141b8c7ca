"""POST handlers of the case page: parse the form, call one cases/ function, commit, redirect.

A refused action (CaseError) rolls back and re-renders the case page with the message at its
field and everything the member typed; a role or department refusal is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from cases import handling, identity, lifecycle, supervision
from cases.desk import Desk, can_read
from cases.permissions import may_attempt
from cases.rewards import workflow as rewards
from cases.rewards.workflow import Recorded
from cases.lifecycle import Decision
from cases.states import ENFORCEMENT_KINDS, CaseError, Forbidden
from models import Report
from portal import get_db
from portal.staff import bp, render_case, report_or_404
from portal.staff_session import desk, staff, staff_required

Form = MultiDict[str, str]


def _date(form: Form, name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, ""))
    except ValueError:
        raise CaseError("请填写有效日期（年-月-日）。", name) from None


def _int(form: Form, name: str, label: str) -> int:
    raw = (form.get(name) or "").replace(",", "").replace("，", "").strip()
    if not raw.isdigit():
        raise CaseError(f"{label}请填写整数。", name)
    return int(raw)


def _decisions(form: Form) -> list[Decision]:
    out = []
    for kind in ENFORCEMENT_KINDS:
        if form.get(f"decision_{kind}") != "on":
            continue
        amount = _int(form, f"amount_{kind}", "金额（元）") if kind in ("fine", "confiscation") else None
        out.append(Decision(kind, amount, (form.get(f"document_{kind}") or "").strip()[:60] or None))
    return out


ACTIONS: dict[str, Callable[[Desk, Report, Form], Any]] = {}


def action(name: str) -> Callable[[Callable[[Desk, Report, Form], Any]], Callable[[Desk, Report, Form], Any]]:
    """Register a case action; it returns the notice to show, or a response of its own."""

    def register(fn: Callable[[Desk, Report, Form], Any]) -> Callable[[Desk, Report, Form], Any]:
        ACTIONS[name] = fn
        return fn

    return register


@action("accept")
def _accept(d: Desk, r: Report, f: Form) -> str:
    lifecycle.accept(d, r, deaths_alleged=f.get("deaths_alleged") == "on", self_reported=f.get("self_reported") == "on")
    return "已受理，核查期限已开始计算。"


@action("not_accept")
def _not_accept(d: Desk, r: Report, f: Form) -> str:
    lifecycle.not_accept(d, r, f.get("reason_code", ""))
    return "已不予受理并告知举报人。"


@action("transfer")
def _transfer(d: Desk, r: Report, f: Form) -> str:
    lifecycle.transfer(d, r, f.get("to_department", ""), f.get("reason", ""))
    return "已移送。"


@action("reject")
def _reject(d: Desk, r: Report, f: Form) -> str:
    lifecycle.reject_back(d, r, f.get("reason", ""))
    return "已退回区安委会办公室。"


@action("start_check")
def _start_check(d: Desk, r: Report, f: Form) -> str:
    lifecycle.start_check(d, r)
    return "已开始核查。"


@action("request_extension")
def _request_extension(d: Desk, r: Report, f: Form) -> str:
    lifecycle.request_extension(d, r, _int(f, "days", "延长天数"), f.get("reason", ""))
    return "已提交延期申请，待负责人审批。"


@action("approve_extension")
def _approve_extension(d: Desk, r: Report, f: Form) -> str:
    lifecycle.approve_extension(d, r)
    return "已批准延期。"


@action("finish_check")
def _finish_check(d: Desk, r: Report, f: Form) -> str:
    lifecycle.finish_check(d, r, conclusion=f.get("conclusion", ""), summary=f.get("summary", ""),
                           hazard_level=f.get("hazard_level", ""), enterprise_name=f.get("enterprise_name", ""),
                           decisions=_decisions(f))
    return "已登记核查结论，请在期限内答复举报人。"


@action("rectify")
def _rectify(d: Desk, r: Report, f: Form) -> str:
    plan = {k: f.get(f"plan_{k}", "") for k in ("responsible", "measures", "funds", "contingency")}
    handling.order_rectification(d, r, plan, _date(f, "plan_deadline"))
    return "已下达整改要求（五落实）。"


@action("inspection")
def _inspection(d: Desk, r: Report, f: Form) -> str:
    handling.record_inspection(d, r, f.get("result", ""), f.get("note", ""))
    return "已登记复查。"


@action("sign_off")
def _sign_off(d: Desk, r: Report, f: Form) -> str:
    handling.sign_off(d, r)
    return "已验收销号。"


@action("reply")
def _reply(d: Desk, r: Report, f: Form) -> str:
    handling.reply(d, r, decision=f.get("decision", ""), reward_eligible=f.get("reward_eligible") == "yes")
    return "已答复举报人。"


@action("close")
def _close(d: Desk, r: Report, f: Form) -> str:
    handling.close(d, r)
    return "已办结。"


@action("merge")
def _merge(d: Desk, r: Report, f: Form) -> str:
    from sqlalchemy import select

    primary = d.db.scalar(select(Report).where(Report.number == (f.get("primary") or "").strip().upper()))
    if primary is None:
        raise CaseError("找不到该主案件编号。", "primary")
    handling.merge(d, r, primary)
    return f"已合并到 {primary.number}。"


@action("comment")
def _comment(d: Desk, r: Report, f: Form) -> str:
    handling.comment(d, r, f.get("comment", ""))
    return "已添加内部意见。"


@action("message")
def _message(d: Desk, r: Report, f: Form) -> str:
    handling.message_reporter(d, r, f.get("message", ""))
    return "消息已发送给举报人。"


@action("supervise")
def _supervise(d: Desk, r: Report, f: Form) -> str:
    supervision.supervise(d, r, _date(f, "due"), _int(f, "progress_every_days", "报送周期"))
    return "已挂牌督办。"


@action("progress")
def _progress(d: Desk, r: Report, f: Form) -> str:
    supervision.report_progress(d, r, f.get("progress", ""))
    return "已报送督办进展。"


@action("end_supervision")
def _end_supervision(d: Desk, r: Report, f: Form) -> str:
    supervision.end_supervision(d, r)
    return "已解除督办。"


@action("identity_request")
def _identity_request(d: Desk, r: Report, f: Form) -> str:
    identity.request_reveal(d, r, f.get("reason", ""))
    return "已提交查看身份申请。"


@action("identity_decide")
def _identity_decide(d: Desk, r: Report, f: Form) -> str:
    approve = f.get("approve") == "yes"
    identity.decide(d, r, _int(f, "request_id", "申请编号"), approve)
    return "已批准。" if approve else "已驳回。"


@action("identity_view")
def _identity_view(d: Desk, r: Report, f: Form) -> Any:
    data = identity.view_identity(d, r)
    get_db().commit()
    return render_template("staff/identity.html", report=r, identity=data)


def _recorded(f: Form) -> Recorded:
    deaths = _int(f, "deaths_concealed", "瞒报死亡人数") if (f.get("deaths_concealed") or "").strip() else 0
    joint = _int(f, "joint_reporters", "联名举报人数") if (f.get("joint_reporters") or "").strip() else 1
    return Recorded(report_type=f.get("report_type", ""), internal=f.get("internal") == "on",
                    listed_situation=f.get("listed_situation") == "on", deaths_concealed=deaths,
                    accident_grade=f.get("accident_grade") or None, joint_reporters=joint,
                    already_known=f.get("already_known") == "on")


@action("reward_propose")
def _reward_propose(d: Desk, r: Report, f: Form) -> str:
    reward = rewards.propose(d, r, _recorded(f))
    return f"已提出奖励申请：按规则计算 {reward.amount_yuan:,} 元，待部门负责人审批。"


@action("reward_approve")
def _reward_approve(d: Desk, r: Report, f: Form) -> str:
    rewards.head_approve(d, r)
    return "已同意，奖励申请已送财务部门审批。"


@action("reward_refuse")
def _reward_refuse(d: Desk, r: Report, f: Form) -> str:
    reward = rewards.current(d.db, r)
    if reward is None:
        raise CaseError("没有待审批的奖励申请。")
    rewards.refuse(d, r, reward, f.get("refusal_reason", ""))
    return "已驳回奖励申请。"


@action("reward_extension")
def _reward_extension(d: Desk, r: Report, f: Form) -> str:
    rewards.request_extension(d, r, _int(f, "days", "延长天数"), f.get("reason", ""))
    return "已申请延长领取期限，待财务部门审批。"


@bp.post("/case/<number>/<action>")
@staff_required("handler", "head", "coordinator")
def case_action(number: str, action: str) -> Any:
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    report = report_or_404(number)
    if not can_read(staff(), report) or not may_attempt(staff().role, action, staff().custodian):
        abort(403)  # role and department come before any validation
    db = get_db()
    try:
        result = handler(desk(), report, request.form)
        db.commit()
    except Forbidden:
        db.rollback()
        abort(403)
    except CaseError as exc:
        db.rollback()
        db.expire_all()
        return render_case(report, errors={exc.field or action: exc.message}, values=request.form.to_dict(), status=400,
                           failed=action)
    if not isinstance(result, str):
        return result
    flash(result)
    return redirect(url_for("staff.case_page", number=report.number))
