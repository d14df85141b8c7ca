"""What a case page shows, decrypted for one reader, with the view recorded in the audit log.

Auditors get ``metadata_view`` (no keys are touched); handlers, heads and coordinators get
``case_view``. Identity is never part of either: it has its own gated path (cases.identity).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from cases import clock, duplicates, identity, states, supervision
from cases.desk import Desk, can_see
from cases.rewards import workflow as rewards_workflow
from cases.states import Forbidden
from cases.text import open_text
from models import (
    Attachment,
    CaseComment,
    CaseTransfer,
    Department,
    EnforcementDecision,
    IdentityReveal,
    Inspection,
    Report,
    StaffUser,
)
from secure_store import envelope
from secure_store.report_keys import ReportKeys, seal_ctx


def _names(desk: Desk, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {u.id: u.display_name for u in desk.db.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}


def metadata_view(desk: Desk, report: Report) -> dict[str, Any]:
    """Everything about a case that needs no key: state, clocks, decisions, transfers."""
    desk.require(can_see(desk.staff, report))
    db = desk.db
    case = report.case
    transfers = list(db.scalars(select(CaseTransfer).where(CaseTransfer.report_id == report.id).order_by(CaseTransfer.id)))
    depts = {d.id: d.name for d in db.scalars(select(Department))}
    sup = supervision.current(db, report)
    reward = rewards_workflow.current(db, report)
    return {
        "report": report,
        "case": case,
        "department": report.department.name,
        "status_label": states.STATES.get(report.status, report.status),
        "clocks": clock.clocks(report, desk.today, desk.limits),
        "decisions": list(db.scalars(select(EnforcementDecision).where(EnforcementDecision.report_id == report.id))),
        "transfers": [{"row": t, "from": depts.get(t.from_department_id), "to": depts.get(t.to_department_id)} for t in transfers],
        "supervision": sup,
        "supervision_late": sup is not None and supervision.progress_late(sup, desk.now),
        "events": [e for e in report.events],
        "reveals": list(db.scalars(select(IdentityReveal).where(IdentityReveal.report_id == report.id).order_by(IdentityReveal.id))),
        "trail": _trail(desk, report),
        "ledger": ledger_entry(report),
        "reward": reward,
        "duplicates": duplicates.likely(desk, report),
        "reward_names": _names(desk, {i for i in (reward.proposed_by, reward.head_by, reward.finance_by, reward.refused_by)
                                      if i}) if reward else {},
    }


def _trail(desk: Desk, report: Report) -> list[Any]:
    """The case's audit entries, for auditors and department heads (who answer for the case)."""
    if desk.staff.role not in ("auditor", "head", "coordinator"):
        return []
    from audit.chain import entries

    return entries(desk.db, target_id=report.number, limit=200)


def ledger_entry(report: Report) -> dict[str, Any] | None:
    """The hazard-ledger (隐患台账) line of a confirmed hazard, from case metadata only."""
    c = report.case
    if c is None or c.conclusion not in ("confirmed", "partly") or c.hazard_level in (None, "none"):
        return None
    plan = c.rectification or {}
    return {
        "enterprise": c.enterprise_name, "level": states.HAZARD_LEVELS.get(c.hazard_level or "", ""),
        "sector": report.sector, "town": report.town_code, "found_on": c.checked_at,
        "deadline": c.rectification_due, "five": {k: bool(plan.get(k)) for k in states.RECTIFICATION_FIELDS},
        "signed_off_at": c.signed_off_at,
    }


def case_view(desk: Desk, report: Report) -> dict[str, Any]:
    view = metadata_view(desk, report)
    keys = desk.keys(report)
    n = report.number
    content = envelope.open_json(keys.for_epoch(0), report.sealed_content, seal_ctx(n, "content"))["content"]
    triage = envelope.open_json(keys.for_epoch(0), report.sealed_triage, seal_ctx(n, "triage"))
    comments = list(desk.db.scalars(select(CaseComment).where(CaseComment.report_id == report.id).order_by(CaseComment.id)))
    inspections = list(desk.db.scalars(select(Inspection).where(Inspection.report_id == report.id).order_by(Inspection.id)))
    names = _names(desk, {c.author_id for c in comments} | {i.recorded_by for i in inspections}
                   | {t["row"].by_user_id for t in view["transfers"]} | {r.requested_by for r in view["reveals"]})
    case = report.case
    view.update({
        "content": content,
        "triage": triage,
        "summary": open_text(report, keys, "check-summary", case.sealed_summary, case.summary_epoch) if case else None,
        "messages": [{"sender": m.sender, "at": m.created_at,
                      "body": envelope.open_sealed(keys.for_epoch(m.key_epoch), m.sealed_body, seal_ctx(n, f"message|{m.sender}")).decode()}
                     for m in report.messages],
        "attachments": [{"id": a.public_id, "mime": a.mime, "size": a.size, "added_by": a.added_by, "sanitized": a.sanitized,
                         "filename": envelope.open_json(keys.for_epoch(a.key_epoch), a.sealed_meta,
                                                        seal_ctx(n, f"attachment|{a.public_id}") + b"|meta")["filename"]}
                        for a in report.attachments],
        "comments": [{"kind": c.kind, "at": c.created_at, "author": names.get(c.author_id, "?"),
                      "body": open_text(report, keys, "comment", c.sealed_body, c.key_epoch)} for c in comments],
        "inspections": [{"on": i.inspected_on, "result": states.INSPECTION_RESULTS[i.result], "by": names.get(i.recorded_by, "?"),
                         "note": open_text(report, keys, "inspection", i.sealed_note, i.key_epoch)} for i in inspections],
        "transfer_reasons": {t["row"].id: open_text(report, keys, "transfer-reason", t["row"].sealed_reason, t["row"].key_epoch)
                             for t in view["transfers"] if t["row"].key_epoch in keys.content},
        "names": names,
        "identity_approved": identity.active_approval(desk, report) is not None,
        "can_decide_identity": identity.can_decide(desk, report),
        "actions": available_actions(desk, report),
    })
    desk.audit("view_report", report)
    return view


def attachment_stream(desk: Desk, report: Report, public_id: str, store) -> tuple[Attachment, str, Iterator[bytes]]:  # type: ignore[no-untyped-def]
    """Decrypt an attachment as a stream (videos up to 200 MB never sit in memory); audited."""
    from intake.uploads import open_plain

    keys: ReportKeys = desk.keys(report)  # access first: a refused reader learns nothing about ids
    att = next((a for a in report.attachments if a.public_id == public_id), None)
    if att is None:
        raise LookupError(public_id)
    ctx = seal_ctx(report.number, f"attachment|{att.public_id}")
    key = keys.for_epoch(att.key_epoch)
    file_key = envelope.open_sealed(key, att.sealed_file_key, ctx)
    filename = envelope.open_json(key, att.sealed_meta, ctx + b"|meta")["filename"]
    desk.audit("download_attachment", report, attachment=att.public_id)
    return att, filename, open_plain(store, att.storage_name, file_key)


def available_actions(desk: Desk, report: Report) -> set[str]:
    """Which action forms the case page offers (the functions still check everything)."""
    role, st, case = desk.staff.role, report.status, report.case
    if role == "auditor" or case is None:
        return set()
    dept = role in ("handler", "head")
    at_coordination = report.department.code == "coordination"
    out: set[str] = {"comment"}
    if st not in ("merged",):
        out.add("message")
    if st == "received":
        if dept and not at_coordination:
            out |= {"accept", "not_accept", "reject", "merge"} | (set() if case.assignment_final else {"transfer"})
        if role == "coordinator":
            out |= {"transfer", "merge"} | ({"not_accept"} if at_coordination else set())
    if dept and st in ("accepted", "checking") and not case.extension_days and not case.extension_requested_days:
        out.add("request_extension")
    if role == "head" and case.extension_requested_days and not case.extension_days:
        out.add("approve_extension")
    if dept and st == "accepted":
        out |= {"start_check", "merge"}
    if dept and st in ("checking", "rechecking"):
        out.add("finish_check")
    if dept and st == "checked" and case.conclusion != "unfounded" and case.hazard_level != "none":
        out.add("rectify")
    if dept and st == "rectifying":
        out.add("inspection")
        if role == "head":
            out.add("sign_off")
    if dept and st in ("checked", "rectifying", "signed_off") and case.replied_at is None:
        out.add("reply")
    if dept and case.replied_at is not None and (st == "signed_off" or (st == "checked" and (case.conclusion == "unfounded" or case.hazard_level == "none"))):
        out.add("close")
    if role == "coordinator" and st in states.OPEN_STATES:
        out.add("end_supervision" if report.supervised else "supervise")
    if dept and report.supervised:
        out.add("progress")
    if dept and report.sealed_identity is not None:
        out.add("identity_request")
    return out | rewards_workflow.case_actions(desk, report)
