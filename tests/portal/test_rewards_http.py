"""Rewards over HTTP: the handler proposes and the head approves on the case page, finance sets the
budget, approves, opens the payee details and records the payout; the anonymous reporter sees the
notice and claims with the receipt alone; errors keep what was typed; the payout export adds up."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

import triage
from cases import handling, lifecycle
from cases.lifecycle import Decision
from models import AuditEntry, Reward
from tests.cases.conftest import add_member, desk_for, load
from tests.conftest import Env, form_tokens, login, number_of, receipt_of, submit_report
from tests.portal.staff_helpers import staff_login

ACCOUNT = "6217000012345678"


@pytest.fixture
def replied_report(env: Env, app, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An anonymous internal report, checked, fined ¥10,000 and replied as eligible. The department
    is 应急管理 unless the test is marked ``reward_department`` (one no other test budgets for)."""
    marker = request.node.get_closest_marker("reward_department")
    dept = marker.args[0] if marker else "emergency"
    monkeypatch.setattr(triage, "route", lambda t, **kw: triage.TriageResult(department=dept, confidence=0.9, needs_review=False))
    html = submit_report(app.test_client(), {"description": "我是厂里员工，车间粉尘除尘器坏了三个月，老板不让停产", "internal": "on"}).get_data(as_text=True)
    number, receipt = number_of(html), receipt_of(html)
    handler = add_member(env, "handler", dept)
    with env.db() as db:
        d = desk_for(env, db, handler)
        r = load(db, number)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion="confirmed", summary="除尘系统失效属实", hazard_level="major",
                               enterprise_name="某铝材加工厂", decisions=[Decision("fine", 10_000, "应急罚〔2026〕8号")])
        handling.reply(d, r, decision="罚款1万元并责令停产整改", reward_eligible=True)
        db.commit()
    return number, receipt


def _reporter_page(app, receipt: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    html = login(client, receipt).get_data(as_text=True)
    return client, html, form_tokens(html)


@pytest.mark.reward_department("forestry")
def test_reward_from_proposal_to_payout(env: Env, app, replied_report) -> None:  # type: ignore[no-untyped-def]
    number, receipt = replied_report
    handler = staff_login(app, add_member(env, "handler", "forestry"))
    head = staff_login(app, add_member(env, "head", "forestry"))
    fin_member = add_member(env, "finance", "finance")
    fin = staff_login(app, fin_member)

    page = handler.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "申请举报奖励" in page and 'value="major_hazard" selected' in page
    resp = handler.post(f"/staff/case/{number}/reward_propose", data={"csrf_token": handler.csrf, "report_type": "major_hazard",
                                                                      "internal": "on", "joint_reporters": "两"})
    assert resp.status_code == 400 and "联名举报人数请填写整数" in resp.get_data(as_text=True)
    resp = handler.post(f"/staff/case/{number}/reward_propose", data={"csrf_token": handler.csrf, "report_type": "major_hazard",
                                                                      "internal": "on", "joint_reporters": "1"})
    assert resp.status_code == 302
    page = handler.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "4,000 元" in page and "待部门负责人审批" in page and "reward_approve" not in page

    assert head.post(f"/staff/case/{number}/reward_approve", data={"csrf_token": head.csrf}).status_code == 400  # no budget yet
    resp = fin.post("/staff/finance/budget", data={"csrf_token": fin.csrf, "department": "forestry", "year": str(date.today().year),
                                                   "amount": "五万"})
    assert resp.status_code == 400 and "预算金额请填写整数" in resp.get_data(as_text=True)
    resp = fin.post("/staff/finance/budget", data={"csrf_token": fin.csrf, "department": "forestry",
                                                   "year": str(date.today().year), "amount": "50,000"})
    assert resp.status_code == 302
    assert head.post(f"/staff/case/{number}/reward_approve", data={"csrf_token": head.csrf}).status_code == 302

    home = fin.get("/staff/finance/").get_data(as_text=True)
    assert number in home and "粉尘" not in home
    detail = fin.get(f"/staff/finance/reward/{number}").get_data(as_text=True)
    assert "粉尘" not in detail and "除尘" not in detail  # finance never sees the report's words
    assert "安全生产法" in detail or "办法" in detail  # the quote's citations
    assert fin.post(f"/staff/finance/reward/{number}/approve", data={"csrf_token": fin.csrf}).status_code == 302

    # the reporter: the notice, a wrong claim that keeps what was typed, then the claim
    client, html, t = _reporter_page(app, receipt)
    assert "奖励已核定" in html and "4,000 元" in html
    resp = client.post("/follow-up/reward/claim", data={**t, "method": "bank", "payee_name": "赵六", "bank_name": "建设银行建安支行",
                                                        "account": "6217-0000", "declaration": "on"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "银行账号应为12至30位数字" in html and 'value="建设银行建安支行"' in html
    resp = client.post("/follow-up/reward/claim", data={**t, "method": "bank", "payee_name": "赵六", "bank_name": "建设银行建安支行",
                                                        "account": ACCOUNT})
    assert resp.status_code == 400 and "不属于不得领取奖励的人员" in resp.get_data(as_text=True)
    resp = client.post("/follow-up/reward/claim", data={**t, "method": "bank", "payee_name": "赵六", "bank_name": "建设银行建安支行",
                                                        "account": ACCOUNT, "declaration": "on"})
    html = resp.get_data(as_text=True)
    code = re.search(r'id="claim-code">([\d ]+)<', html)
    assert resp.status_code == 200 and code and len(code.group(1).replace(" ", "")) == 12
    with env.db() as db:
        reward = db.scalar(select(Reward).where(Reward.status == "claimed", Reward.claim_method == "bank")
                           .order_by(Reward.id.desc()))
        assert reward is not None and ACCOUNT.encode() not in reward.sealed_payee
    if env.backend == "sqlite":
        raw = (env.data_dir / "portal.db").read_bytes()
        assert ACCOUNT.encode() not in raw and "赵六".encode() not in raw

    detail = fin.post(f"/staff/finance/reward/{number}/payee", data={"csrf_token": fin.csrf}).get_data(as_text=True)
    assert ACCOUNT in detail and "赵六" in detail
    resp = fin.post(f"/staff/finance/reward/{number}/payout", data={"csrf_token": fin.csrf, "voucher_no": f"记-{number}",
                                                                    "paid_on": date.today().isoformat(), "amount": "4001"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "4,000元" in html and f'value="记-{number}"' in html
    resp = fin.post(f"/staff/finance/reward/{number}/payout", data={"csrf_token": fin.csrf, "voucher_no": f"记-{number}",
                                                                    "paid_on": date.today().isoformat(), "amount": "4,000"})
    assert resp.status_code == 302
    _, html, _ = _reporter_page(app, receipt)
    assert "举报奖励已支付" in html

    xlsx = fin.get(f"/staff/finance/payouts.xlsx?start={date.today().isoformat()}&end={date.today().isoformat()}")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(ws.iter_rows(values_only=True))
    ours = [r for r in rows if r[3] == number]
    assert ours and ours[0][5] == 4000
    total = rows[-1]
    assert total[0] == "合计" and total[5] == sum(r[5] for r in rows[3:-1])  # title, period, header, rows, total
    assert "赵六" not in str(rows) and ACCOUNT not in str(rows)
    bad = fin.get("/staff/finance/payouts.xlsx?start=2026-13-01&end=2026-01-01")
    assert bad.status_code == 400 and "请填写有效日期" in bad.get_data(as_text=True)
    with env.db() as db:
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == number)))
        assert {"reward_propose", "reward_head_approve", "reward_finance_approve", "reward_claim", "reward_payee_view",
                "reward_payout"} <= actions


def test_auditor_reads_the_finance_screens_but_cannot_act(env: Env, app, replied_report) -> None:  # type: ignore[no-untyped-def]
    auditor = staff_login(app, add_member(env, "auditor", None))
    assert "预算使用" in auditor.get("/staff/finance/").get_data(as_text=True)
    assert auditor.post("/staff/finance/budget", data={"csrf_token": auditor.csrf, "department": "emergency",
                                                       "year": "2026", "amount": "1"}).status_code == 403


def test_finance_lands_on_its_own_page(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    fin = staff_login(app, add_member(env, "finance", "finance"))
    resp = fin.get("/staff/home")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/finance/")


def test_the_api_shows_the_notice_and_takes_the_claim(env: Env, app, replied_report) -> None:  # type: ignore[no-untyped-def]
    from cases.rewards import workflow
    from cases.rewards.workflow import Recorded
    from intake.pow import solve
    from models import Department

    number, receipt = replied_report
    handler, head, fin = add_member(env, "handler", "emergency"), add_member(env, "head", "emergency"), add_member(env, "finance", "finance")
    with env.db() as db:
        r = load(db, number)
        workflow.propose(desk_for(env, db, handler), r, Recorded("major_hazard"))
        fd = desk_for(env, db, fin)
        dept = db.scalar(select(Department.id).where(Department.code == "emergency"))
        workflow.set_budget(fd, dept, fd.today.year, workflow.committed(db, dept, fd.today.year) + 3000)
        workflow.head_approve(desk_for(env, db, head), r)
        workflow.finance_approve(fd, r, workflow.current(db, r))
        db.commit()
    client = app.test_client()
    pw = client.get("/api/v1/pow?purpose=login").get_json()
    token = client.post("/api/v1/sessions", json={"receipt": receipt, "pow": {"challenge": pw["challenge"],
                                                                              "nonce": solve(pw["challenge"], pw["bits"])}}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    view = client.get("/api/v1/report", headers=auth).get_json()
    assert view["reward"]["amount"] == 3000 and view["reward"]["claim_open"] is True
    resp = client.post("/api/v1/report/reward/claim", headers=auth, json={"method": "bank", "payee_name": "赵六",
                                                                          "bank_name": "建设银行", "account": ACCOUNT, "declaration": "yes"})
    assert resp.status_code == 400 and "declaration" in resp.get_json()["errors"]
    resp = client.post("/api/v1/report/reward/claim", headers=auth, json={"method": "bank", "payee_name": "赵六",
                                                                          "bank_name": "建设银行", "account": ACCOUNT, "declaration": True})
    assert resp.status_code == 201 and len(resp.get_json()["claim_code"].replace(" ", "")) == 12
    assert client.get("/api/v1/report", headers=auth).get_json()["reward"]["status"] == "claimed"
    assert client.post("/api/v1/report/reward/claim", json={}).status_code == 401
