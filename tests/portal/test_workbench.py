"""The workbench over HTTP: queue search, the case page, errors that keep input, attachment
download, the reporter's objection, key grants, and the auditors' log and export."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

import triage
from models import AuditEntry, Report
from tests.cases.conftest import add_member, desk_for, file_to, load
from tests.conftest import Env, jpeg_with_exif, login, number_of, receipt_of, submit_report
from tests.portal.staff_helpers import staff_login


@pytest.fixture
def fire_report(env: Env, app, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(triage, "route", lambda t, **kw: triage.TriageResult(department="fire", confidence=0.9, needs_review=False))
    html = submit_report(app.test_client(), {"description": "鑫源仓储公司仓库消防通道被货物堵死，灭火器过期",
                                             "enterprise": "鑫源仓储有限公司"},
                         files=[(jpeg_with_exif(), "scene.jpg")]).get_data(as_text=True)
    return number_of(html), receipt_of(html)


def test_queue_search_case_page_and_download(env: Env, app, fire_report) -> None:  # type: ignore[no-untyped-def]
    number, _ = fire_report
    client = staff_login(app, add_member(env, "handler", "fire"))
    page = client.get("/staff/?q=鑫源仓储").get_data(as_text=True)
    assert number in page
    assert number not in client.get("/staff/?q=不存在的单位名称xyz").get_data(as_text=True)
    assert "至少两个字" in client.get("/staff/?q=的").get_data(as_text=True)
    case = client.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "消防通道被货物堵死" in case and "scene.jpg" in case
    att = re.search(rf'/staff/case/{number}/attachment/([0-9a-f]+)', case).group(1)  # type: ignore[union-attr]
    resp = client.get(f"/staff/case/{number}/attachment/{att}")
    assert resp.status_code == 200 and resp.data[:3] == b"\xff\xd8\xff" and b"CANARY-EXIF" not in resp.data
    with env.db() as db:
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == number)))
        assert {"view_report", "download_attachment"} <= actions


def test_refused_action_keeps_input_and_names_the_field(env: Env, app, fire_report) -> None:  # type: ignore[no-untyped-def]
    number, _ = fire_report
    client = staff_login(app, add_member(env, "handler", "fire"))
    for action in ("accept", "start_check"):
        assert client.post(f"/staff/case/{number}/{action}", data={"csrf_token": client.csrf}).status_code == 302
    resp = client.post(f"/staff/case/{number}/finish_check", data={
        "csrf_token": client.csrf, "conclusion": "confirmed", "hazard_level": "major", "enterprise_name": "鑫源仓储有限公司",
        "summary": "现场确认通道堵塞", "decision_fine": "on", "amount_fine": "一万"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "金额（元）请填写整数" in html
    assert 'value="鑫源仓储有限公司"' in html and "现场确认通道堵塞" in html
    with env.db() as db:
        assert load(db, number).status == "checking"  # nothing half-done


def test_reporter_objects_after_the_reply(env: Env, app, fire_report) -> None:  # type: ignore[no-untyped-def]
    from cases import handling, lifecycle

    number, receipt = fire_report
    m = add_member(env, "handler", "fire")
    with env.db() as db:
        d = desk_for(env, db, m)
        r = load(db, number)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion="unfounded", summary="现场未发现堵塞", hazard_level="none", enterprise_name="")
        handling.reply(d, r, decision="不予处罚", reward_eligible=False)
        db.commit()
    reporter = app.test_client()
    page = login(reporter, receipt).get_data(as_text=True)
    assert "核查结论：不属实" in page and "提出异议" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = reporter.post("/follow-up/objection", data={"csrf_token": csrf, "token": token})
    assert done.status_code == 200 and "已提出异议" in done.get_data(as_text=True)
    again = reporter.post("/follow-up/objection", data={"csrf_token": csrf, "token": token})
    assert again.status_code == 400 and "只能提出一次" in again.get_data(as_text=True)
    with env.db() as db:
        assert load(db, number).status == "rechecking"


def test_head_grants_the_department_key_to_a_new_member(env: Env, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    number = file_to(env, monkeypatch, "fire")
    newcomer = add_member(env, "handler", "fire", grant=False)
    newcomer_client = staff_login(app, newcomer)
    assert newcomer_client.get(f"/staff/case/{number}").status_code == 403  # no key yet
    head = staff_login(app, add_member(env, "head", "fire"))
    assert newcomer.username in head.get("/staff/admin/members").get_data(as_text=True)
    assert head.post(f"/staff/admin/members/{newcomer.user_id}/grant", data={"csrf_token": head.csrf}).status_code == 302
    # the grant is opened at the next request from the personal key held in the session
    assert newcomer_client.get(f"/staff/case/{number}").status_code == 200


def test_auditor_sees_metadata_and_exports_the_log(env: Env, app, fire_report) -> None:  # type: ignore[no-untyped-def]
    number, _ = fire_report
    handler = staff_login(app, add_member(env, "handler", "fire"))
    assert handler.get(f"/staff/case/{number}").status_code == 200
    client = staff_login(app, add_member(env, "auditor", None))
    case = client.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "消防通道被货物堵死" not in case and "审计角色只能查看" in case
    assert "审计记录（本案）" in case and "查看举报（解密）" in case  # the case's trail, without content
    log = client.get("/staff/audit/").get_data(as_text=True)
    assert "审计日志" in log
    verified = client.post("/staff/audit/verify", data={"csrf_token": client.csrf}).get_data(as_text=True)
    assert "核验通过" in verified
    xlsx = client.get("/staff/audit/export.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(1, 1).value == "序号" and sheet.max_row > 1
    with env.db() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.seq.desc()).limit(1)) is not None


@pytest.mark.real_triage
def test_case_page_shows_the_real_triage_explanation(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    html = submit_report(app.test_client(), {
        "description": "化工厂液氯储罐区没有安装泄漏报警装置，上周阀门泄漏过一次，现在还在生产，工人都很害怕"}).get_data(as_text=True)
    number = number_of(html)
    client = staff_login(app, add_member(env, "coordinator", "coordination"))
    page = client.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "智能分诊说明" in page and "建议部门" in page and "依据" in page
    with env.db() as db:
        r = load(db, number)
        if r.department.code != "coordination":  # routed: the department's handler reads it too
            handler = staff_login(app, add_member(env, "handler", r.department.code))
            assert handler.get(f"/staff/case/{number}").status_code == 200
