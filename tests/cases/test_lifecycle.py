"""Every transition, allowed and refused (state, role, department), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from audit.chain import verify
from cases import handling, identity, lifecycle, supervision
from cases.lifecycle import Decision
from cases.states import CaseError, Forbidden
from models import AuditEntry, EnforcementDecision
from tests.cases.conftest import add_member, desk_for, file_to, load
from tests.conftest import Env

SEPT_1 = datetime(2026, 9, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 CST, a Tuesday


@pytest.fixture(scope="module")
def team(env: Env) -> dict[str, object]:
    return {
        "handler": add_member(env, "handler", "fire"),
        "handler2": add_member(env, "handler", "fire"),
        "head": add_member(env, "head", "fire"),
        "other": add_member(env, "handler", "housing"),
        "other_head": add_member(env, "head", "housing"),
        "coordinator": add_member(env, "coordinator", "coordination"),
        "auditor": add_member(env, "auditor", None),
        "finance": add_member(env, "finance", "finance"),
    }


def _check(env: Env, team, number: str, conclusion: str = "confirmed", hazard: str = "major") -> None:  # type: ignore[no-untyped-def]
    with env.db() as db:
        d = desk_for(env, db, team["handler"], SEPT_1)
        r = load(db, number)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion=conclusion, summary="现场检查确认消防通道堵塞", hazard_level=hazard,
                               enterprise_name="宏达仓储有限公司" if conclusion != "unfounded" else "",
                               decisions=[Decision("fine", 10000, "豫消罚〔2026〕12号"), Decision("rectify_order")] if conclusion != "unfounded" else [])
        db.commit()


def test_full_lifecycle_to_closed_with_clocks_and_audit(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire", now=SEPT_1)
    with env.db() as db:
        r = load(db, number)
        assert r.status == "received" and r.due_on == date(2026, 9, 8)  # 5 working days
        d = desk_for(env, db, team["handler"], SEPT_1)
        lifecycle.accept(d, r)
        assert r.case.check_due == date(2026, 11, 2)  # 60 days → Sat 10-31, rolled to Monday
        assert r.due_on == date(2026, 11, 2)
        lifecycle.start_check(d, r)
        later = SEPT_1 + timedelta(days=20)
        d.now = later
        lifecycle.finish_check(d, r, conclusion="confirmed", summary="现场检查确认消防通道堵塞", hazard_level="major",
                               enterprise_name="宏达仓储有限公司", decisions=[Decision("fine", 10000, "豫消罚〔2026〕12号")])
        assert r.status == "checked" and r.case.reply_due == date(2026, 10, 8)  # 09-21 + 10 = 10-01, holiday → 10-08
        handling.order_rectification(d, r, {"responsible": "张经理", "measures": "清理通道", "funds": "5000元",
                                            "contingency": "专人值守"}, date(2026, 10, 30))
        assert r.status == "rectifying" and r.due_on == date(2026, 10, 8)  # the reply is due first
        from cases.view import ledger_entry

        line = ledger_entry(r)
        assert line is not None and line["enterprise"] == "宏达仓储有限公司" and line["deadline"] == date(2026, 10, 30)
        assert all(line["five"].values()) and line["signed_off_at"] is None
        handling.reply(d, r, decision="罚款1万元，责令整改", reward_eligible=True)
        assert r.due_on == date(2026, 10, 30)
        handling.record_inspection(d, r, "passed", "通道已清理")
        with pytest.raises(Forbidden):
            handling.sign_off(d, r)  # handlers cannot sign off
        db.commit()
        head = desk_for(env, db, team["head"], later)
        handling.sign_off(head, r)
        handling.close(d, r)
        db.commit()
        assert r.status == "closed" and not r.is_open and r.due_on is None
        fine = db.scalar(select(EnforcementDecision).where(EnforcementDecision.report_id == r.id))
        assert fine is not None and fine.amount_yuan == 10000
        actions = [e.details.get("to_state") for e in db.scalars(
            select(AuditEntry).where(AuditEntry.target_id == number, AuditEntry.action == "transition").order_by(AuditEntry.seq))]
        assert actions == ["accepted", "checking", "checked", "rectifying", "rectifying", "signed_off", "closed"]
        assert verify(db, d.audit_key).ok
        kinds = [e.kind for e in r.events if e.public]
        assert {"accepted", "replied", "closed"} <= set(kinds)


def test_department_and_role_checks(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire")
    with env.db() as db:
        r = load(db, number)
        for who in ("other", "other_head", "auditor", "finance", "coordinator"):
            with pytest.raises(Forbidden):
                lifecycle.accept(desk_for(env, db, team[who]), r)
        with pytest.raises(Forbidden):
            desk_for(env, db, team["other"]).keys(r)  # no content either
        with pytest.raises(CaseError, match="不能执行"):
            lifecycle.start_check(desk_for(env, db, team["handler"]), r)  # not accepted yet
        with pytest.raises(CaseError, match="法定理由"):
            lifecycle.not_accept(desk_for(env, db, team["handler"]), r, "because")
        lifecycle.not_accept(desk_for(env, db, team["handler"]), r, "no_clear_facts")
        db.commit()
        assert r.status == "not_accepted" and not r.is_open
        assert r.messages[-1].sender == "staff"


def test_coordination_queue_decisions(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, None, text="老板拖欠工资三个月不发")
    with env.db() as db:
        r = load(db, number)
        with pytest.raises(Forbidden):
            lifecycle.not_accept(desk_for(env, db, team["handler"]), r, "not_safety")
        with pytest.raises(Forbidden):
            lifecycle.accept(desk_for(env, db, team["coordinator"]), r)  # the office dispatches, it does not accept
    with env.db() as db:
        r = load(db, number)
        lifecycle.not_accept(desk_for(env, db, team["coordinator"]), r, "not_safety")
        db.commit()
        assert r.status == "not_accepted"


def test_extension_once_by_head_not_requester(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire", now=SEPT_1)
    with env.db() as db:
        r = load(db, number)
        d = desk_for(env, db, team["handler"], SEPT_1)
        lifecycle.accept(d, r)
        with pytest.raises(CaseError):
            lifecycle.request_extension(d, r, 31, "需要检测报告")
        lifecycle.request_extension(d, r, 30, "需要第三方检测报告")
        with pytest.raises(CaseError, match="只能延长一次"):
            lifecycle.request_extension(d, r, 10, "再延一次")
        with pytest.raises(Forbidden):
            lifecycle.approve_extension(d, r)  # a handler
        lifecycle.approve_extension(desk_for(env, db, team["head"], SEPT_1), r)
        db.commit()
        assert r.case.extension_days == 30 and r.case.check_due == date(2026, 12, 2)


def test_transfer_rewraps_and_old_department_loses_access(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from secure_store import envelope, report_keys

    number = file_to(env, monkeypatch, "fire", identity_mode="named", name="王五", phone="13800000001")
    with env.db() as db:
        r = load(db, number)
        fire = desk_for(env, db, team["handler"])
        old_keys = fire.keys(r, with_identity=True)  # what a fire handler could have copied
        lifecycle.transfer(fire, r, "housing", "属于建筑施工安全，应由住建部门办理")
        db.commit()
        assert r.department.code == "housing" and r.key_epoch == 1 and r.status == "received"
    with env.db() as db:
        r = load(db, number)
        housing = desk_for(env, db, team["other"])
        handling.message_reporter(housing, r, "请补充现场照片")
        db.commit()
        with pytest.raises(Forbidden):
            desk_for(env, db, team["handler"]).keys(r)
        fire_private = desk_for(env, db, team["handler"]).staff.keys[team_dept_id(db, "fire")]
        with pytest.raises(envelope.DecryptionError):
            report_keys.department_keys(r, team_dept_id(db, "fire"), fire_private)
        newest = r.messages[-1]
        assert newest.key_epoch == 1 and 1 not in old_keys.content  # the copied keys open nothing new
        with pytest.raises(envelope.DecryptionError):
            envelope.open_sealed(old_keys.current, newest.sealed_body, report_keys.seal_ctx(number, "message|staff"))
        keys = housing.keys(r, with_identity=True)
        assert keys.identity is not None and set(keys.content) == {0, 1}
        # ping-pong is refused: housing may not send it back to fire, and may transfer only once
        with pytest.raises(CaseError, match="不能移回"):
            lifecycle.transfer(housing, r, "fire", "还是消防的事")
        lifecycle.reject_back(housing, r, "不属于住建职责")
        db.commit()
        assert r.department.code == "coordination" and r.needs_review
        coord = desk_for(env, db, team["coordinator"])
        lifecycle.transfer(coord, r, "housing", "经研究由住建部门办理")
        db.commit()
        assert r.case.assignment_final
        with pytest.raises(CaseError, match="不能再退回"):
            lifecycle.reject_back(desk_for(env, db, team["other"]), r, "还是不归我们")


def team_dept_id(db, code: str) -> int:  # type: ignore[no-untyped-def]
    from models import Department

    return db.scalar(select(Department.id).where(Department.code == code))


def test_reporter_reads_messages_after_transfer(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from intake import service
    from tests.cases.conftest import intake_ctx

    monkeypatch.setattr("triage.route", lambda t, **kw: __import__("triage").TriageResult(department="fire", confidence=0.9, needs_review=False))
    from intake.validation import validate_report
    from intake.reference import load_reference

    data = validate_report({"description": "工地塔吊没有检测就使用"}, load_reference()).value
    with env.db() as db:
        filed = service.file_report(db, intake_ctx(env), data, [])
    with env.db() as db:
        r = load(db, filed.number)
        lifecycle.transfer(desk_for(env, db, team["handler"]), r, "housing", "建筑起重机械归住建")
        db.commit()
        handling.message_reporter(desk_for(env, db, team["other"]), r, "我们已安排检查")
        db.commit()
    with env.db() as db:
        access = service.resume(db, service.login_with_receipt(db, intake_ctx(env), filed.receipt))
        view = service.reporter_view(db, intake_ctx(env), access)
        bodies = [m["body"] for m in view["messages"]]
        assert any("移送至" in b for b in bodies) and "我们已安排检查" in bodies
        service.post_message(db, access, "照片已补充")  # sealed under the new epoch
    with env.db() as db:
        r = load(db, filed.number)
        from cases.view import case_view

        assert any(m["body"] == "照片已补充" for m in case_view(desk_for(env, db, team["other"]), r)["messages"])


def test_reply_objection_and_recheck(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire", now=SEPT_1)
    _check(env, team, number, "unfounded", "none")
    with env.db() as db:
        r = load(db, number)
        d = desk_for(env, db, team["handler"], SEPT_1)
        with pytest.raises(CaseError, match="请先答复"):
            handling.close(d, r)
        with pytest.raises(CaseError, match="尚未答复"):
            handling.object_to_result(db, d.audit_key, r, SEPT_1)
        handling.reply(d, r, decision="经核查不属实", reward_eligible=False)
        handling.close(d, r)
        db.commit()
        assert r.case.objection_due == date(2026, 9, 11)
        with pytest.raises(CaseError, match="超过异议期限"):
            handling.object_to_result(db, d.audit_key, r, SEPT_1 + timedelta(days=11))
        handling.object_to_result(db, d.audit_key, r, SEPT_1 + timedelta(days=3))
        db.commit()
        assert r.status == "rechecking" and r.is_open and r.case.recheck_due == date(2026, 10, 8)
        with pytest.raises(CaseError, match="只能提出一次"):
            handling.object_to_result(db, d.audit_key, r, SEPT_1 + timedelta(days=4))
        lifecycle.finish_check(d, r, conclusion="partly", summary="复查发现部分属实", hazard_level="general",
                               enterprise_name="宏达仓储有限公司")
        db.commit()
        assert r.status == "checked" and r.case.replied_at is None


def test_merge_keeps_first_accepted(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = file_to(env, monkeypatch, "fire")
    second = file_to(env, monkeypatch, "fire")
    with env.db() as db:
        a, b = load(db, first), load(db, second)
        d = desk_for(env, db, team["handler"])
        with pytest.raises(CaseError, match="已受理"):
            handling.merge(d, b, a)
        lifecycle.accept(d, a)
        db.commit()
        handling.merge(d, b, a)
        db.commit()
        assert b.status == "merged" and b.primary_report_id == a.id and not b.is_open


def test_identity_reveal_needs_head_approval(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire", identity_mode="named", name="赵六", phone="13700000002")
    anonymous = file_to(env, monkeypatch, "fire")
    with env.db() as db:
        r = load(db, number)
        h = desk_for(env, db, team["handler"])
        with pytest.raises(CaseError, match="须先提出申请"):
            identity.view_identity(h, r)
        with pytest.raises(CaseError, match="没有身份信息"):
            identity.request_reveal(h, load(db, anonymous), "需要联系举报人核实")
        req = identity.request_reveal(h, r, "需要当面询问举报人细节")
        db.commit()
        with pytest.raises(Forbidden):
            identity.decide(desk_for(env, db, team["handler2"]), r, req.id, True)
        with pytest.raises(Forbidden):
            identity.decide(desk_for(env, db, team["other_head"]), r, req.id, True)
        identity.decide(desk_for(env, db, team["head"]), r, req.id, True)
        db.commit()
        with pytest.raises(CaseError):
            identity.view_identity(desk_for(env, db, team["handler2"]), r)  # approval is personal
        shown = identity.view_identity(h, r)
        db.commit()
        assert shown["name"] == "赵六"
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == number)))
        assert {"identity_reveal_request", "identity_reveal_approve", "identity_view"} <= set(actions)


def test_supervision_and_escalation(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire", now=SEPT_1)
    with env.db() as db:
        r = load(db, number)
        with pytest.raises(Forbidden):
            supervision.supervise(desk_for(env, db, team["head"], SEPT_1), r, date(2026, 9, 5))
        supervision.supervise(desk_for(env, db, team["coordinator"], SEPT_1), r, date(2026, 9, 4), 3)
        db.commit()
        assert r.supervised and r.due_on == date(2026, 9, 4)
        sup = supervision.current(db, r)
        assert supervision.progress_late(sup, SEPT_1 + timedelta(days=4))
        supervision.report_progress(desk_for(env, db, team["handler"], SEPT_1 + timedelta(days=4)), r, "已约谈企业负责人")
        db.commit()
        assert not supervision.progress_late(sup, SEPT_1 + timedelta(days=5))
        result = supervision.escalate(db, SEPT_1 + timedelta(days=10))
        assert result.to_coordination >= 1
        db.expire_all()
        assert r.case.escalation == 2
        assert any(e.kind == "escalated_coordination" for e in r.events)


def test_a_designated_custodian_may_approve_but_not_their_own_request(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from models import StaffUser

    number = file_to(env, monkeypatch, "fire", identity_mode="named", name="孙八", phone="13500000004")
    with env.db() as db:
        db.execute(update(StaffUser).where(StaffUser.id == team["handler2"].user_id).values(identity_custodian=True))
        db.commit()
        r = load(db, number)
        custodian = desk_for(env, db, team["handler2"])
        own = identity.request_reveal(custodian, r, "需要电话回访举报人")
        req = identity.request_reveal(desk_for(env, db, team["handler"]), r, "需要当面询问举报人")
        db.commit()
        with pytest.raises(CaseError, match="自己的申请"):
            identity.decide(custodian, r, own.id, True)
        identity.decide(custodian, r, req.id, True)
        db.commit()
        assert req.status == "approved"
        db.execute(update(StaffUser).where(StaffUser.id == team["handler2"].user_id).values(identity_custodian=False))
        db.commit()
