"""Oversight screens through HTTP: figures, scope, field errors, audit, typical cases, and the
public transparency page (no login, no small cells, no per-report data, no probing)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CaseRecord, Report
from oversight import publication, stats
from tests.cases.conftest import add_member
from tests.portal.staff_helpers import staff_login


@pytest.fixture(scope="module")
def site(world: Any) -> dict[str, Any]:
    env, rows = world
    app = env.app()
    members = {"coordinator": add_member(env, "coordinator", "coordination"), "auditor": add_member(env, "auditor", None),
               "head": add_member(env, "head", rows[0].department_code), "finance": add_member(env, "finance", None)}
    return {"env": env, "rows": rows, "app": app, "clients": {k: staff_login(app, m) for k, m in members.items()}}


def _fig(html: str, ident: str) -> str:
    m = re.search(rf'id="{ident}">([^<]*)<', html)
    assert m, ident
    return m.group(1)


def _no_inline(html: str) -> None:
    assert "<script" not in html and " style=" not in html and "<style" not in html


def test_dashboard_figures_and_scope(site: dict[str, Any]) -> None:
    stats._CACHE.clear()
    rows = site["rows"]
    html = site["clients"]["coordinator"].get("/staff/oversight/?start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    _no_inline(html)
    assert _fig(html, "fig-received") == str(len(rows))
    assert _fig(html, "fig-confirmed") == str(sum(r.hazard for r in rows))
    assert _fig(html, "fig-signed-off") == str(sum(r.hazard and r.signed_off_at is not None for r in rows))
    assert "<svg" in html and "id=\"by-department\"" in html
    dept = rows[0].department_id
    other = next(r.department_id for r in rows if r.department_id != dept)
    html = site["clients"]["head"].get(f"/staff/oversight/?start=2026-01-01&end=2026-12-31&department={other}").get_data(as_text=True)
    assert _fig(html, "fig-received") == str(sum(r.department_id == dept for r in rows))
    assert "id=\"by-department\"" not in html
    assert site["clients"]["finance"].get("/staff/oversight/").status_code == 403


def test_bad_dates_are_reported_at_the_field(site: dict[str, Any]) -> None:
    html = site["clients"]["auditor"].get("/staff/oversight/?start=2026-02-30&end=2025-01-01").get_data(as_text=True)
    assert 'id="start-error"' in html and "日期格式应为" in html
    html = site["clients"]["auditor"].get("/staff/oversight/notices?period=2026-W77").get_data(as_text=True)
    assert 'id="period-error"' in html and "周次无效" in html


def test_ledger_view_and_export_are_audited(site: dict[str, Any]) -> None:
    env, rows = site["env"], site["rows"]
    client = site["clients"]["auditor"]
    html = client.get("/staff/oversight/ledger").get_data(as_text=True)
    _no_inline(html)
    assert _fig(html, "ledger-total") == str(sum(r.hazard for r in rows))
    resp = client.get("/staff/oversight/ledger.xlsx?level=major")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    resp = client.get("/staff/oversight/notices/notice.pdf?period=2026-04")
    assert resp.status_code == 200 and resp.data[:5] == b"%PDF-"
    with env.db() as db:
        actions = [a for (a,) in db.execute(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(3))]
        details = db.scalar(select(AuditEntry.details).order_by(AuditEntry.seq.desc()).limit(1))
    assert actions == ["export", "export", "view_ledger"]
    assert details["what"] == "notice_monthly"


def test_typical_cases_draft_publish_unpublish(site: dict[str, Any]) -> None:
    env = site["env"]
    coord = site["clients"]["coordinator"]
    publication.clear_cache()
    bad = coord.post("/staff/oversight/cases", data={"csrf_token": coord.csrf, "title": "某加油站违规卸油",
                                                    "body": "联系电话13812345678，该站卸油时未接静电导线，已责令整改并处罚款。"})
    assert bad.status_code == 400 and "请删除手机号码" in bad.get_data(as_text=True)
    body = "某加油站卸油作业时未按规定连接静电接地装置，经核查属实，区应急管理局依法责令停业整改并处以罚款，现已整改到位。"
    resp = coord.post("/staff/oversight/cases", data={"csrf_token": coord.csrf, "title": "加油站违规卸油典型案例", "body": body})
    assert resp.status_code == 302
    public = site["app"].test_client()
    assert "违规卸油" not in public.get("/transparency").get_data(as_text=True)  # a draft is not public
    with env.db() as db:
        from models import TypicalCase

        case_id = db.scalar(select(TypicalCase.id).where(TypicalCase.title == "加油站违规卸油典型案例"))
    head = site["clients"]["head"]
    assert head.post(f"/staff/oversight/cases/{case_id}/publish", data={"csrf_token": head.csrf}).status_code == 403
    assert coord.post(f"/staff/oversight/cases/{case_id}/publish", data={"csrf_token": coord.csrf}).status_code == 302
    assert "违规卸油" in public.get("/transparency").get_data(as_text=True)
    assert coord.post(f"/staff/oversight/cases/{case_id}/unpublish", data={"csrf_token": coord.csrf}).status_code == 302
    assert "违规卸油" not in public.get("/transparency").get_data(as_text=True)
    with env.db() as db:
        actions = [a for (a,) in db.execute(select(AuditEntry.action).where(AuditEntry.target_type == "typical_case"))]
    assert actions == ["typical_case_create", "typical_case_publish", "typical_case_unpublish"]


def _add(env: Any, town: str, filed: datetime) -> None:
    with env.db() as db:
        dept = db.scalar(select(Report.department_id).limit(1))
        rep = Report(number=f"AQP-{secrets.token_hex(4)}", receipt_locator=secrets.token_bytes(32), filed_at=filed,
                     department_id=dept, town_code=town, sealed_content=b"x", sealed_triage=b"x", content_sha256="0" * 64,
                     certificate_signature="t", certificate_key_id="t")
        rep.case = CaseRecord()
        db.add(rep)
        db.commit()


def test_public_page_leaks_nothing(site: dict[str, Any]) -> None:
    env, rows = site["env"], site["rows"]
    now = datetime.now(timezone.utc)
    _add(env, "guicun", now - timedelta(days=2))  # one report in one town: a cell of 1
    publication.clear_cache()
    client = site["app"].test_client()
    resp = client.get("/transparency")
    assert resp.status_code == 200 and "public" in resp.headers["Cache-Control"]
    html = resp.get_data(as_text=True)
    _no_inline(html)
    assert "贵村" not in html and "guicun" not in html  # merged into the "other towns" line
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells and all(c == "0" or c.startswith("&lt;") or int(c) >= publication.min_cell() for c in cells)
    assert not re.search(r"AQ[0-9A-Z-]{6,}", html)  # no report numbers
    assert not any(r.enterprise and r.enterprise in html for r in rows)  # no enterprise names
    received = _fig(html, "pub-received")
    # filing today never shows (figures stop at yesterday), even with the cache cleared
    _add(env, "xinyuan", now)
    publication.clear_cache()
    assert _fig(client.get("/transparency").get_data(as_text=True), "pub-received") == received
    from cases.calendar import CST, today_cst

    today = today_cst()
    lo = datetime(today.year, 1, 1, tzinfo=CST)
    hi = datetime(today.year, today.month, today.day, tzinfo=CST)
    with env.db() as db:
        n = db.scalar(select(func.count()).select_from(Report).where(Report.filed_at >= lo, Report.filed_at < hi)) or 0
    assert received == publication.shown(n, publication.min_cell())


def test_merge_small_keeps_small_towns_unrecoverable() -> None:
    merged = publication.merge_small({"甲": 40, "乙": 12, "丙": 1}, unknown=0, threshold=5)
    assert ("甲", 40) in merged and all(name != "丙" for name, _ in merged)
    other = dict(merged)[publication.OTHER_TOWNS]
    assert other >= 5 and other == 13  # 乙 folded in so 丙 is not total − shown
    assert publication.merge_small({"甲": 9, "乙": 7}, unknown=0, threshold=5) == [("甲", 9), ("乙", 7)]
    # reports without a town alone do not drag a town in, unless they are a small cell themselves
    assert publication.merge_small({"甲": 9, "乙": 7}, unknown=6, threshold=5)[-1] == (publication.OTHER_TOWNS, 6)
    assert publication.merge_small({"甲": 9, "乙": 7}, unknown=2, threshold=5)[-1] == (publication.OTHER_TOWNS, 9)
    assert publication.shown(3, 5) == "<5" and publication.shown(0, 5) == "0" and publication.shown(5, 5) == "5"
