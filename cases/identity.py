"""Revealing a reporter's identity: requested with a reason, approved by the department head or
a designated custodian (never the requester), valid for a short time, and audited at each step.

Handlers hold the department key, so this is a policy gate rather than a cryptographic one; what
makes it hold is that every request, decision and view is in the hash-chained audit log that the
纪委监委 auditors read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cases.desk import DEPARTMENT_ROLES, Desk
from cases.lifecycle import _reason
from cases.states import CaseError
from models import IdentityReveal, Report
from secure_store import envelope
from secure_store.report_keys import seal_ctx

APPROVAL_VALID = timedelta(hours=24)


def request_reveal(desk: Desk, report: Report, reason: str) -> IdentityReveal:
    desk.require_role(report, DEPARTMENT_ROLES)
    if report.sealed_identity is None:
        raise CaseError("该举报为匿名举报且未留联系方式，没有身份信息。")
    pending = desk.db.scalar(select(IdentityReveal).where(IdentityReveal.report_id == report.id,
                                                          IdentityReveal.requested_by == desk.staff.user_id,
                                                          IdentityReveal.status == "pending"))
    if pending is not None:
        raise CaseError("您已有待审批的申请。")
    req = IdentityReveal(report_id=report.id, requested_by=desk.staff.user_id, requested_at=desk.now,
                         reason=_reason(reason, "reason", 6)[:500])
    desk.db.add(req)
    desk.db.flush()
    desk.audit("identity_reveal_request", report, request=req.id)
    return req


def decide(desk: Desk, report: Report, request_id: int, approve: bool) -> IdentityReveal:
    desk.require(can_decide(desk, report), "只有部门负责人或指定的身份信息保管人可以审批。")
    req = desk.db.get(IdentityReveal, request_id)
    if req is None or req.report_id != report.id or req.status != "pending":
        raise CaseError("没有待审批的申请。")
    if req.requested_by == desk.staff.user_id:
        raise CaseError("不能审批自己的申请。")
    req.status = "approved" if approve else "refused"
    req.decided_by = desk.staff.user_id
    req.decided_at = desk.now
    req.expires_at = desk.now + APPROVAL_VALID if approve else None
    desk.audit("identity_reveal_approve" if approve else "identity_reveal_refuse", report, request=req.id)
    return req


def can_decide(desk: Desk, report: Report) -> bool:
    from cases.desk import can_see

    return desk.staff.role in DEPARTMENT_ROLES and can_see(desk.staff, report) and (
        desk.staff.role == "head" or desk.staff.custodian)


def active_approval(desk: Desk, report: Report) -> IdentityReveal | None:
    return desk.db.scalar(select(IdentityReveal).where(
        IdentityReveal.report_id == report.id, IdentityReveal.requested_by == desk.staff.user_id,
        IdentityReveal.status == "approved", IdentityReveal.expires_at > desk.now))


def view_identity(desk: Desk, report: Report) -> dict[str, Any]:
    """Decrypt the identity for the requester of an approved, unexpired request; audited."""
    desk.require_role(report, DEPARTMENT_ROLES)
    approval = active_approval(desk, report)
    if approval is None:
        raise CaseError("查看举报人身份须先提出申请并经负责人批准。")
    keys = desk.keys(report, with_identity=True)
    if keys.identity is None or report.sealed_identity is None:
        raise CaseError("该举报没有身份信息。")
    desk.audit("identity_view", report, request=approval.id)
    return envelope.open_json(keys.identity, report.sealed_identity, seal_ctx(report.number, "identity"))
