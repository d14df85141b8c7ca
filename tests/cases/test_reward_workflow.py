"""The reward workflow on SQLite and PostgreSQL: propose → head → finance → notice → claim → payout,
separation of duties, budgets, the claim window, forfeiture and extensions, and the database rules
that stop a report from being paid twice. The year is 2025 here so this module's budgets never
meet the HTTP tests' (which run on today's date)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audit.chain import derive_audit_key, verify
from cases import handling, lifecycle
from cases.lifecycle import Decision
from cases.rewards import claims, workflow
from cases.rewards.claims import ClaimForm
from cases.rewards.workflow import Recorded
from cases.states import CaseError, Forbidden
from models import AuditEntry, Department, Reward, RewardPayout
from secure_store import envelope, instance
from tests.cases.conftest import add_member, desk_for, file_to, load
from tests.conftest import Env

T0 = datetime(2025, 9, 2, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 CST
BANK = ClaimForm("bank", True, payee_name="王五", bank_name="中国农业银行许昌建安支行", account="6228 4800 1234 5678 901")


@pytest.fixture(scope="module")
def team(env: Env) -> dict[str, object]:
    return {
        "handler": add_member(env, "handler", "water"),
        "head": add_member(env, "head", "water"),
        "head2": add_member(env, "head", "water"),
        "other_head": add_member(env, "head", "housing"),
        "finance": add_member(env, "finance", "finance"),
        "finance2": add_member(env, "finance", "finance"),
        "coordinator": add_member(env, "coordinator", "coordination"),
    }


@pytest.fixture(scope="module")
def keys(env: Env) -> tuple[bytes, bytes]:
    mac = instance.load(env.data_dir).mac_key
    return mac, derive_audit_key(mac)


@pytest.fixture(scope="module", autouse=True)
def budget(env: Env, team) -> None:  # type: ignore[no-untyped-def]
    with env.db() as db:
        water = db.scalar(select(Department.id).where(Department.code == "water"))
        workflow.set_budget(desk_for(env, db, team["finance"], T0), water, 2025, 1_000_000)
        db.commit()


def checked_case(env: Env, team, monkeypatch, *, fine: int = 10_000, eligible: bool = True, internal: bool = True,  # type: ignore[no-untyped-def]
                 anonymous: bool = True, conclusion: str = "confirmed") -> str:
    extra = {"internal": "on"} if internal else {}
    if not anonymous:
        extra.update(identity_mode="named", name="王五", phone="13600000001")
    number = file_to(env, monkeypatch, "water", text="水库大坝泄洪闸门锈死打不开，汛期马上到了", now=T0, **extra)
    with env.db() as db:
        d = desk_for(env, db, team["handler"], T0)
        r = load(db, number)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion=conclusion, summary="闸门锈蚀无法开启属实", hazard_level="major",
                               enterprise_name="某水库管理所", decisions=[Decision("fine", fine, "水罚〔2025〕3号")] if fine else [])
        handling.reply(d, r, decision="罚款并责令整改", reward_eligible=eligible)
        db.commit()
    return number


def approved(env: Env, team, number: str, at: datetime = T0) -> None:  # type: ignore[no-untyped-def]
    with env.db() as db:
        r = load(db, number)
        workflow.propose(desk_for(env, db, team["handler"], at), r, Recorded("major_hazard", internal=True))
        workflow.head_approve(desk_for(env, db, team["head"], at), r)
        fin = desk_for(env, db, team["finance"], at)
        workflow.finance_approve(fin, r, workflow.current(db, r))
        db.commit()


def test_whole_chain_anonymous_bank_claim(env: Env, team, keys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mac, audit_key = keys
    number = checked_case(env, team, monkeypatch)
    with env.db() as db:
        r = load(db, number)
        reward = workflow.propose(desk_for(env, db, team["handler"], T0), r, Recorded("major_hazard", internal=True))
        # the amount is computed from the recorded fine (¥10,000) under the rules in force at acceptance
        assert (reward.amount_yuan, reward.rule_set) == (4000, "henan-2025")
        assert reward.facts["penalty_amount"] == 10_000 and reward.facts["first_accepted"] is True
        assert [s["article"] for s in reward.quote["breakdown"]] and all(s["article"] for s in reward.quote["breakdown"])
        workflow.head_approve(desk_for(env, db, team["head"], T0), r)
        fin = desk_for(env, db, team["finance"], T0)
        workflow.finance_approve(fin, r, reward)
        db.commit()
        assert reward.status == "approved" and reward.budget_year == 2025
        assert reward.notice_on == date(2025, 9, 2) and reward.claim_due == date(2025, 11, 3)  # 60 days: Sat 11-01 → Mon
        assert any(e.kind == "reward_notice" and e.public for e in r.events)

        code = claims.claim(db, mac, audit_key, r, BANK, now=T0 + timedelta(days=3))
        db.commit()
        assert len(code) == 12 and code.isdigit() and reward.status == "claimed"
        assert code.encode() not in reward.claim_code_hash and b"6228" not in reward.sealed_payee
        payee = claims.payee_details(desk_for(env, db, team["finance2"], T0 + timedelta(days=4)), r, reward)
        assert payee == {"method": "bank", "payee_name": "王五", "bank_name": "中国农业银行许昌建安支行", "account": "6228480012345678901"}

        later = desk_for(env, db, team["finance2"], T0 + timedelta(days=5))
        with pytest.raises(CaseError) as exc:
            claims.record_payout(later, r, reward, voucher_no="记-2025-0901", paid_on=date(2025, 9, 7), amount=3999)
        assert exc.value.field == "amount"
        claims.record_payout(later, r, reward, voucher_no="记-2025-0901", paid_on=date(2025, 9, 7), amount=4000)
        db.commit()
        assert reward.status == "paid"
        with pytest.raises(CaseError):
            claims.record_payout(later, r, reward, voucher_no="记-2025-0902", paid_on=date(2025, 9, 7), amount=4000)
        db.rollback()
        actions = [a for (a,) in db.execute(select(AuditEntry.action).where(AuditEntry.target_id == number))]
        for step in ("reward_propose", "reward_head_approve", "reward_finance_approve", "reward_claim",
                     "reward_payee_view", "reward_payout"):
            assert step in actions, step
        assert verify(db, audit_key).ok


def test_the_department_cannot_open_the_payee_details(env: Env, team, keys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mac, audit_key = keys
    number = checked_case(env, team, monkeypatch)
    approved(env, team, number)
    with env.db() as db:
        r = load(db, number)
        reward = workflow.current(db, r)
        claims.claim(db, mac, audit_key, r, BANK, now=T0)
        db.commit()
        d = desk_for(env, db, team["head"], T0)
        for private in d.staff.keys.values():  # the department key and nothing else
            with pytest.raises(envelope.DecryptionError):
                envelope.unwrap_with_private_key(reward.sealed_payee, private, b"reward-payee|" + number.encode())
        with pytest.raises(Forbidden):
            claims.payee_details(d, r, reward)


def test_three_different_people_and_roles(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch)
    with env.db() as db:
        r = load(db, number)
        head = desk_for(env, db, team["head"], T0)
        workflow.propose(head, r, Recorded("major_hazard"))  # a head may propose …
        with pytest.raises(CaseError, match="三名不同人员"):
            workflow.head_approve(head, r)  # … but not approve their own proposal
        with pytest.raises(Forbidden):
            workflow.head_approve(desk_for(env, db, team["handler"], T0), r)  # handlers never approve
        with pytest.raises(Forbidden):
            workflow.head_approve(desk_for(env, db, team["other_head"], T0), r)  # nor another department's head
        with pytest.raises(Forbidden):
            workflow.finance_approve(desk_for(env, db, team["head2"], T0), r, workflow.current(db, r))
        with pytest.raises(CaseError, match="待财务审批"):
            workflow.finance_approve(desk_for(env, db, team["finance"], T0), r, workflow.current(db, r))  # head first
        workflow.head_approve(desk_for(env, db, team["head2"], T0), r)
        with pytest.raises(CaseError, match="只能奖励一次"):
            workflow.propose(desk_for(env, db, team["handler"], T0), r, Recorded("major_hazard"))
        db.commit()


def test_refusal_then_a_new_proposal(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch)
    with env.db() as db:
        r = load(db, number)
        first = workflow.propose(desk_for(env, db, team["handler"], T0), r, Recorded("major_hazard", internal=True))
        with pytest.raises(CaseError) as exc:
            workflow.refuse(desk_for(env, db, team["head"], T0), r, first, "")
        assert exc.value.field == "refusal_reason"
        workflow.refuse(desk_for(env, db, team["head"], T0), r, first, "内部举报身份未核实")
        second = workflow.propose(desk_for(env, db, team["handler"], T0), r, Recorded("major_hazard", internal=False))
        db.commit()
        assert first.status == "refused" and second.amount_yuan == 3000 and workflow.current(db, r).id == second.id


@pytest.mark.parametrize("case,message", [
    ({"eligible": False}, "不符合奖励条件"),
    ({"conclusion": "partly", "eligible": True, "fine": 0}, None),
])
def test_eligibility_comes_from_the_case(env: Env, team, monkeypatch, case, message) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch, **case)
    with env.db() as db:
        r = load(db, number)
        d = desk_for(env, db, team["handler"], T0)
        if message:
            with pytest.raises(CaseError, match=message):
                workflow.propose(d, r, Recorded("major_hazard"))
        else:
            assert workflow.propose(d, r, Recorded("major_hazard")).amount_yuan == 3000  # the floor, no fine
        db.rollback()


def test_already_known_and_unconfirmed_and_unreplied_are_refused(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch)
    with env.db() as db:
        r = load(db, number)
        d = desk_for(env, db, team["handler"], T0)
        with pytest.raises(CaseError, match="举报前已被.*掌握") as exc:
            workflow.propose(d, r, Recorded("major_hazard", already_known=True))
        assert exc.value.field == "reward_facts"
        with pytest.raises(CaseError, match="举报类型"):
            workflow.propose(d, r, Recorded("out_of_scope"))
        db.rollback()
    fresh = file_to(env, monkeypatch, "water", now=T0)
    with env.db() as db:
        r = load(db, fresh)
        d = desk_for(env, db, team["handler"], T0)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion="confirmed", summary="现场核实属实", hazard_level="major", enterprise_name="某单位")
        with pytest.raises(CaseError, match="请先答复"):
            workflow.propose(d, r, Recorded("major_hazard"))
        db.rollback()


def test_budget_blocks_approval_with_a_clear_message(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch, fine=1_000_000)  # 15% = 150,000
    with env.db() as db:
        r = load(db, number)
        water = db.scalar(select(Department.id).where(Department.code == "water"))
        fin = desk_for(env, db, team["finance"], T0)
        used = workflow.committed(db, water, 2025)
        workflow.set_budget(fin, water, 2025, used + 100_000)
        workflow.propose(desk_for(env, db, team["handler"], T0), r, Recorded("major_hazard"))
        with pytest.raises(CaseError, match="超出本部门2025年度举报奖励预算"):
            workflow.head_approve(desk_for(env, db, team["head"], T0), r)
        with pytest.raises(CaseError, match="不能低于"):
            workflow.set_budget(fin, water, 2025, used - 1) if used else workflow.set_budget(fin, water, 2025, -1)
        workflow.set_budget(fin, water, 2025, used + 150_000)
        workflow.head_approve(desk_for(env, db, team["head"], T0), r)
        workflow.set_budget(fin, water, 2025, used + 149_999)  # lowered again before finance approves
        with pytest.raises(CaseError, match="剩余149,999元"):
            workflow.finance_approve(fin, r, workflow.current(db, r))
        workflow.set_budget(fin, water, 2025, 1_000_000_000)
        workflow.finance_approve(fin, r, workflow.current(db, r))
        db.commit()
    with env.db() as db:
        with pytest.raises(CaseError, match="尚未设定"):
            workflow.check_budget(desk_for(env, db, team["finance"], T0), workflow.current(db, load(db, number)), 2031)


def test_claim_window_forfeit_and_extension(env: Env, team, keys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mac, audit_key = keys
    number = checked_case(env, team, monkeypatch)
    approved(env, team, number)
    late = T0 + timedelta(days=70)
    with env.db() as db:
        r = load(db, number)
        with pytest.raises(CaseError, match="已超过领取期限"):
            claims.claim(db, mac, audit_key, r, BANK, now=late)
        db.rollback()
        assert claims.forfeit_expired(db, audit_key, date(2025, 11, 4)) >= 1
        reward = workflow.current(db, r)
        assert reward.status == "forfeited"
        handler = desk_for(env, db, team["handler"], late)
        with pytest.raises(CaseError) as exc:
            workflow.request_extension(handler, r, 30, "")
        assert exc.value.field == "reason"
        workflow.request_extension(handler, r, 30, "举报人住院治疗，出院后申领")
        with pytest.raises(CaseError, match="只能申请延长一次"):
            workflow.request_extension(handler, r, 10, "再次申请延期")
        workflow.decide_extension(desk_for(env, db, team["finance"], late), r, reward, True)
        db.commit()
        assert reward.status == "approved" and reward.claim_due == date(2025, 12, 11)  # 11-11 + 30
        assert any(e.kind == "reward_extended" for e in r.events)
        claims.claim(db, mac, audit_key, r, BANK, now=late)
        db.commit()
        assert reward.status == "claimed"


def test_pending_extension_holds_off_forfeiture(env: Env, team, keys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, audit_key = keys
    number = checked_case(env, team, monkeypatch)
    approved(env, team, number)
    with env.db() as db:
        r = load(db, number)
        workflow.request_extension(desk_for(env, db, team["handler"], T0), r, 20, "举报人在外地务工")
        db.commit()
        claims.forfeit_expired(db, audit_key, date(2025, 12, 1))
        assert workflow.current(db, r).status == "approved"
        workflow.decide_extension(desk_for(env, db, team["finance"], T0), r, workflow.current(db, r), False)
        db.commit()
        claims.forfeit_expired(db, audit_key, date(2025, 12, 1))
        assert workflow.current(db, r).status == "forfeited"


def test_counter_payout_needs_the_claim_code_or_an_identity_check(env: Env, team, keys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mac, audit_key = keys
    anon = checked_case(env, team, monkeypatch)
    named = checked_case(env, team, monkeypatch, anonymous=False)
    for n in (anon, named):
        approved(env, team, n)
    with env.db() as db:
        ra, rn = load(db, anon), load(db, named)
        code = claims.claim(db, mac, audit_key, ra, ClaimForm("counter", True), now=T0)
        with pytest.raises(CaseError) as exc:
            claims.claim(db, mac, audit_key, rn, ClaimForm("counter", True, payee_name="王五", id_number="123"), now=T0)
        assert exc.value.field == "id_number"
        with pytest.raises(CaseError) as exc:
            claims.claim(db, mac, audit_key, rn, ClaimForm("counter", False, payee_name="王五", id_number="11010519491231002X"), now=T0)
        assert exc.value.field == "declaration"
        claims.claim(db, mac, audit_key, rn, ClaimForm("counter", True, payee_name="王五", id_number="11010519491231002X"), now=T0)
        db.commit()
        fin = desk_for(env, db, team["finance"], T0 + timedelta(days=1))
        wa, wn = workflow.current(db, ra), workflow.current(db, rn)
        with pytest.raises(CaseError) as exc:
            claims.record_payout(fin, ra, wa, voucher_no="现-01", paid_on=fin.today, amount=4000, claim_code="000000000000", mac_key=mac)
        assert exc.value.field == "claim_code"
        claims.record_payout(fin, ra, wa, voucher_no=f"现-{anon}", paid_on=fin.today, amount=4000,
                             claim_code=claims.format_code(code), mac_key=mac)
        with pytest.raises(CaseError) as exc:
            claims.record_payout(fin, rn, wn, voucher_no=f"现-{named}", paid_on=fin.today, amount=4000, mac_key=mac)
        assert exc.value.field == "identity_checked"
        claims.record_payout(fin, rn, wn, voucher_no=f"现-{named}", paid_on=fin.today, amount=4000, identity_checked=True)
        db.commit()
        assert wa.status == wn.status == "paid"


def test_the_database_refuses_a_second_payout_or_a_second_live_reward(env: Env, team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = checked_case(env, team, monkeypatch)
    approved(env, team, number)
    with env.db() as db:
        r = load(db, number)
        reward = workflow.current(db, r)
        db.add(Reward(report_id=r.id, department_id=r.department_id, status="proposed", rule_set="henan-2025", facts={},
                      quote={}, amount_yuan=1, proposed_by=team["handler"].user_id))
        with pytest.raises(IntegrityError):
            db.flush()
        db.rollback()
        row = dict(reward_id=reward.id, report_id=r.id, department_id=r.department_id, paid_on=date(2025, 9, 3),
                   amount_yuan=4000, method="bank", recorded_by=team["finance"].user_id)
        db.add(RewardPayout(voucher_no=f"A-{number}", **row))
        db.commit()
        other = Reward(report_id=r.id, department_id=r.department_id, status="refused", rule_set="henan-2025", facts={},
                       quote={}, amount_yuan=4000, proposed_by=team["handler"].user_id)
        db.add(other)
        db.flush()  # a refused reward may sit beside the live one …
        db.add(RewardPayout(voucher_no=f"B-{number}", **{**row, "reward_id": other.id}))
        with pytest.raises(IntegrityError):  # … but the report is paid once, whichever reward row is used
            db.commit()
        db.rollback()
        assert db.scalar(select(RewardPayout.id).where(RewardPayout.voucher_no == f"B-{number}")) is None
