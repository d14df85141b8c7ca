"""Authorisation matrix: every staff route × every role × own / other department.

Allowed means "not refused" (200, a redirect, or a 400 for the empty form the matrix posts);
refused means exactly 403, or a redirect to the login page for an anonymous visitor. A new staff
route that is not in ROUTES fails ``test_every_staff_route_is_in_the_matrix``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import triage
from models import Attachment, Report
from portal.case_actions import ACTIONS
from portal.finance import ACTIONS as FINANCE_ACTIONS
from tests.cases.conftest import add_member, file_to
from tests.conftest import Env, jpeg_with_exif, number_of, submit_report
from tests.portal.staff_helpers import staff_login

ROLES = [("handler", "fire"), ("head", "fire"), ("coordinator", "coordination"), ("auditor", None),
         ("finance", "finance"), ("admin", None)]
DEPT_ONLY = {"reward_propose", "reward_extension", "accept", "not_accept", "reject", "start_check", "request_extension", "finish_check", "rectify",
             "inspection", "reply", "close", "progress", "identity_request", "identity_view"}
HEAD_ONLY = {"reward_approve", "reward_refuse", "sign_off", "approve_extension", "identity_decide"}
COORD_ONLY = {"supervise", "end_supervision"}
SHARED = {"transfer", "merge", "comment", "message"}
WORKBENCH = {"handler", "head", "coordinator", "auditor"}

# (method, rule, kind): kind decides the expectation below
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/staff/", "workbench"),
    ("GET", "/staff/home", "any"),
    ("GET", "/staff/case/{n}", "case"),
    ("GET", "/staff/case/{n}/attachment/{a}", "content"),
    *[("POST", f"/staff/case/{{n}}/{a}", f"action:{a}") for a in ACTIONS],
    ("GET", "/staff/audit/", "auditor"),
    ("POST", "/staff/audit/verify", "auditor"),
    ("GET", "/staff/audit/export.csv", "auditor"),
    ("GET", "/staff/admin/users", "admin"),
    ("POST", "/staff/admin/users", "admin"),
    ("POST", "/staff/admin/users/{u}/reset", "admin"),
    ("POST", "/staff/admin/users/{u}/active", "admin"),
    ("POST", "/staff/admin/users/{u}/custodian", "admin"),
    ("GET", "/staff/finance/", "finance_read"),
    ("POST", "/staff/finance/budget", "finance"),
    ("GET", "/staff/finance/payouts.xlsx", "finance_read"),
    ("GET", "/staff/finance/reward/{n}", "finance_read"),
    *[("POST", f"/staff/finance/reward/{{n}}/{a}", "finance") for a in FINANCE_ACTIONS],
    ("GET", "/staff/admin/members", "keyholder"),
    ("POST", "/staff/admin/members/{u}/grant", "keyholder"),
    ("GET", "/staff/oversight/", "workbench"),
    ("GET", "/staff/oversight/ledger", "workbench"),
    ("GET", "/staff/oversight/ledger.xlsx", "workbench"),
    ("GET", "/staff/oversight/notices", "district"),
    ("GET", "/staff/oversight/notices/notice.xlsx", "district"),
    ("GET", "/staff/oversight/notices/notice.pdf", "district"),
    ("GET", "/staff/oversight/cases", "coordinator"),
    ("POST", "/staff/oversight/cases", "coordinator"),
    ("POST", "/staff/oversight/cases/999999/publish", "coordinator"),
    ("POST", "/staff/oversight/cases/999999/unpublish", "coordinator"),
]


def refused(role: str, scope: str, kind: str) -> bool:
    if kind == "any":
        return False
    if kind == "workbench":
        return role not in WORKBENCH
    if kind == "case":
        return role not in WORKBENCH or (role in ("handler", "head") and scope == "other")
    if kind == "content":
        return role not in ("handler", "head", "coordinator") or (role in ("handler", "head") and scope == "other")
    if kind == "auditor":
        return role != "auditor"
    if kind == "admin":
        return role != "admin"
    if kind == "finance":
        return role != "finance"
    if kind == "finance_read":
        return role not in ("finance", "auditor")
    if kind == "district":
        return role not in ("coordinator", "auditor")
    if kind == "coordinator":
        return role != "coordinator"
    if kind == "keyholder":
        return role not in ("head", "coordinator", "finance")
    action = kind.split(":", 1)[1]
    if role not in ("handler", "head", "coordinator"):
        return True
    if role in ("handler", "head") and scope == "other":
        return True
    if role == "coordinator":
        return action in DEPT_ONLY or action in HEAD_ONLY
    if role == "handler":
        return action in HEAD_ONLY or action in COORD_ONLY
    return action in COORD_ONLY  # head


@pytest.fixture(scope="module")
def world(env: Env) -> dict[str, Any]:
    mp = pytest.MonkeyPatch()
    try:
        app = env.app()
        mp.setattr(triage, "route", lambda t, **kw: triage.TriageResult(department="fire", confidence=0.9, needs_review=False))
        resp = submit_report(app.test_client(), {"description": "仓库消防通道被堵死，灭火器过期三年", "identity_mode": "named",
                                                 "name": "钱七", "phone": "13600000003"}, files=[(jpeg_with_exif(), "p.jpg")])
        own = number_of(resp.get_data(as_text=True))
        other = file_to(env, mp, "housing", text="工地脚手架没有验收就使用，工人没系安全带")
    finally:
        mp.undo()
    with env.db() as db:
        report = db.scalar(select(Report).where(Report.number == own))
        att = db.scalar(select(Attachment.public_id).where(Attachment.report_id == report.id))
    clients = {}
    target = add_member(env, "handler", "fire")  # the account admin routes act on
    for role, dept in ROLES:
        clients[role] = staff_login(app, add_member(env, role, dept))
    return {"app": app, "own": own, "other": other, "att": att, "clients": clients, "target": target.user_id}


@pytest.mark.parametrize("role", [r for r, _ in ROLES])
def test_matrix(world: dict[str, Any], role: str) -> None:
    client = world["clients"][role]
    failures = []
    for scope, number in (("own", world["own"]), ("other", world["other"])):
        for method, rule, kind in ROUTES:
            if scope == "other" and "{n}" not in rule:
                continue
            url = rule.format(n=number, a=world["att"], u=world["target"])
            resp = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": client.csrf})
            was_refused = resp.status_code == 403
            if was_refused != refused(role, scope, kind) or resp.status_code >= 500:
                failures.append(f"{role} {scope} {method} {rule}: {resp.status_code}")
    assert not failures, "\n".join(failures)


def test_anonymous_is_sent_to_login(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    for method, rule, _ in ROUTES:
        url = rule.format(n=world["own"], a=world["att"], u=world["target"])
        resp = client.get(url) if method == "GET" else client.post(url, data={})
        assert resp.status_code in (302, 400), (rule, resp.status_code)  # 400: CSRF refuses before the view
        if resp.status_code == 302:
            assert resp.headers["Location"].endswith("/staff/login")


def test_every_staff_route_is_in_the_matrix(world: dict[str, Any]) -> None:
    app = world["app"]
    covered = {rule.replace("{n}", "<number>").replace("{a}", "<public_id>").replace("{u}", "<int:user_id>") for _, rule, _ in ROUTES}
    covered |= {"/staff/case/<number>/<action>", "/staff/audit/export.<fmt>", "/staff/finance/reward/<number>/<action>",
                "/staff/oversight/notices/notice.<fmt>", "/staff/oversight/cases/<int:case_id>/<action>"}
    login_pages = {"/staff/login", "/staff/login/password", "/staff/login/enrol", "/staff/login/code", "/staff/logout"}
    missing = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/staff") and r.rule not in covered | login_pages]
    assert not missing, f"staff routes missing from the authorisation matrix: {missing}"
