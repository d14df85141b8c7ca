"""Attacks: guessing attachment ids across reports, polyglot and script-carrying files, huge EXIF,
and property-based fuzzing of the public form and every JSON API endpoint (never a 500, never a
traceback, always a Chinese message, security headers on every answer)."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import triage
from models import Attachment, Report
from tests.cases.conftest import add_member
from tests.conftest import Env, jpeg_with_exif, number_of, submit_report
from tests.portal.staff_helpers import staff_login

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _fire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triage, "route", lambda t, **kw: triage.TriageResult(department="fire", confidence=0.9, needs_review=False))


def _pdf_with_javascript() -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

    w = PdfWriter()
    page = w.add_blank_page(200, 200)
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('EVILJS')")})
    link = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
                             NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(100), NumberObject(100)]),
                             NameObject("/A"): action})
    page[NameObject("/Annots")] = ArrayObject([w._add_object(link)])
    w._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('EVILJS-OPEN')")})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_attachment_ids_do_not_cross_reports(env: Env, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fire(monkeypatch)
    client = app.test_client()
    a = number_of(submit_report(client, {"description": "甲：仓库消防通道堵塞"}, files=[(jpeg_with_exif(), "a.jpg")]).get_data(as_text=True))
    b = number_of(submit_report(client, {"description": "乙：车间灭火器过期"}, files=[(jpeg_with_exif(), "b.jpg")]).get_data(as_text=True))
    with env.db() as db:
        att_b = db.scalar(select(Attachment.public_id).join(Report, Report.id == Attachment.report_id).where(Report.number == b))
    staff = staff_login(app, add_member(env, "handler", "fire"))
    assert staff.get(f"/staff/case/{a}/attachment/{att_b}").status_code == 404  # b's file under a's number
    assert staff.get(f"/staff/case/{b}/attachment/{att_b}").status_code == 200
    assert staff.get(f"/staff/case/{a}/attachment/{'0' * 32}").status_code == 404
    assert staff.get("/staff/case/AQ20990101-AAAAAAAA").status_code == 404


def test_polyglots_scripts_and_huge_exif_are_neutralised(env: Env, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fire(monkeypatch)
    zip_tail = b"PK\x03\x04" + b"\x00" * 26 + b"evil.html<script>alert('POLYGLOT')</script>"
    polyglot = jpeg_with_exif() + zip_tail  # a JPEG that is also a ZIP with a script
    from PIL import Image

    img = Image.new("RGB", (32, 32), (10, 200, 10))
    exif = Image.Exif()
    exif[0x010E] = "X" * 60_000  # ImageDescription: a 60 KB EXIF block
    big = io.BytesIO()
    img.save(big, format="JPEG", exif=exif.tobytes())
    html = submit_report(app.test_client(), {"description": "附件测试：锅炉房照片"},
                         files=[(polyglot, "photo.jpg"), (big.getvalue(), "big.jpg"), (_pdf_with_javascript(), "doc.pdf")]
                         ).get_data(as_text=True)
    number = number_of(html)
    assert b"EVILJS" in _pdf_with_javascript() and b"X" * 1000 in big.getvalue()  # the inputs do carry the payloads
    staff = staff_login(app, add_member(env, "handler", "fire"))
    case = staff.get(f"/staff/case/{number}").get_data(as_text=True)
    ids = re.findall(rf"/staff/case/{number}/attachment/([0-9a-f]+)", case)
    assert len(ids) == 3
    bodies = [staff.get(f"/staff/case/{number}/attachment/{i}").data for i in ids]
    for body in bodies:
        assert b"POLYGLOT" not in body and b"EVILJS" not in body and b"PK\x03\x04" not in body and b"X" * 1000 not in body
    assert sum(body.startswith(b"%PDF") for body in bodies) == 1
    assert sum(body[:3] == b"\xff\xd8\xff" for body in bodies) == 2


def test_zip_and_executables_are_refused_whatever_their_name(client) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.txt", b"0" * 20_000_000)  # 20 MB of zeros in a few KB: a zip bomb
    for data, name in ((buf.getvalue(), "photo.jpg"), (b"MZ\x90\x00" + b"\x00" * 200, "scan.pdf"),
                       (b"#!/bin/sh\nrm -rf /\n", "video.mp4")):
        resp = submit_report(client, {"description": "附件类型测试：危险文件"}, files=[(data, name)])
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and 'id="attachments-error"' in html and "receipt-code" not in html


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
FIELDS = ["description", "town", "address", "enterprise", "observed", "sector_hint", "identity_mode", "name", "phone",
          "id_number", "internal", "contact", "contact_detail"]


@FUZZ
@given(values=st.dictionaries(st.sampled_from(FIELDS), text, max_size=8))
def test_fuzz_public_form(client, values) -> None:  # type: ignore[no-untyped-def]
    resp = submit_report(client, values)
    body = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400, 429), resp.status_code
    assert "Traceback" not in body and all(h in resp.headers for h in HEADERS)
    if resp.status_code == 400:
        assert re.search(r'class="error[^"]*"', body) or "error-summary" in body


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8)
API = [("POST", "/api/v1/reports"), ("POST", "/api/v1/sessions"), ("POST", "/api/v1/report/messages"),
       ("POST", "/api/v1/report/reward/claim"), ("GET", "/api/v1/report"), ("GET", "/api/v1/report/certificate"),
       ("DELETE", "/api/v1/sessions/current"), ("GET", "/api/v1/pow"), ("GET", "/api/v1/meta")]


@FUZZ
@given(route=st.sampled_from(API), payload=st.dictionaries(st.sampled_from(
    ["description", "receipt", "pow", "body", "method", "account", "declaration", "town", "identity_mode", "name"]) | text,
    json_values, max_size=6), token=st.none() | text, raw=st.none() | st.binary(max_size=200))
def test_fuzz_api(client, route, payload, token, raw) -> None:  # type: ignore[no-untyped-def]
    method, path = route
    headers = {"Authorization": f"Bearer {token}"} if token is not None and token.isprintable() and token.isascii() else {}
    data = raw if raw is not None else json.dumps(payload)
    resp = client.open(path, method=method, data=data, headers=headers, content_type="application/json")
    assert resp.status_code < 500, (path, resp.status_code, resp.get_data(as_text=True)[:300])
    assert all(h in resp.headers for h in HEADERS)
    if resp.status_code >= 400 and resp.status_code != 404:
        body = resp.get_json()
        assert body and re.search(r"[\u4e00-\u9fff]", body.get("error", "")), body


STAFF_FIELDS = ["reason", "reason_code", "to_department", "conclusion", "summary", "hazard_level", "enterprise_name",
                "decision_fine", "amount_fine", "plan_responsible", "plan_measures", "plan_funds", "plan_contingency",
                "plan_deadline", "result", "note", "decision", "reward_eligible", "primary", "comment", "message", "due",
                "progress_every_days", "progress", "request_id", "approve", "days", "report_type", "internal",
                "deaths_concealed", "accident_grade", "joint_reporters", "refusal_reason", "voucher_no", "paid_on",
                "amount", "claim_code", "year", "department"]


@pytest.fixture(scope="module")
def staff_world(env: Env):  # type: ignore[no-untyped-def]
    from tests.cases.conftest import file_to

    mp = pytest.MonkeyPatch()
    try:
        number = file_to(env, mp, "fire", text="仓库消防通道被堵死，模糊测试用")
    finally:
        mp.undo()
    app = env.app()
    return {"app": app, "number": number, "clients": {role: staff_login(app, add_member(env, role, dept)) for role, dept in
                                                      (("handler", "fire"), ("head", "fire"), ("coordinator", "coordination"),
                                                       ("finance", "finance"))}}


@FUZZ
@given(data=st.data())
def test_fuzz_every_staff_form(staff_world, data) -> None:  # type: ignore[no-untyped-def]
    """Random values in every field of every case action and finance form, by each role that may
    post them: the answer is a page, a redirect, a 400 with a Chinese message, a 403 or a 404 —
    never a server error, never a traceback."""
    from portal.case_actions import ACTIONS
    from portal.finance import ACTIONS as FINANCE_ACTIONS

    role = data.draw(st.sampled_from(sorted(staff_world["clients"])))
    client = staff_world["clients"][role]
    number = staff_world["number"]
    url = data.draw(st.sampled_from([f"/staff/case/{number}/{a}" for a in ACTIONS]
                                     + [f"/staff/finance/reward/{number}/{a}" for a in FINANCE_ACTIONS]
                                     + ["/staff/finance/budget"]))
    form = data.draw(st.dictionaries(st.sampled_from(STAFF_FIELDS), text, max_size=10))
    resp = client.post(url, data={**form, "csrf_token": client.csrf})
    body = resp.get_data(as_text=True)
    assert resp.status_code in (200, 302, 400, 403, 404), (url, role, resp.status_code)
    assert "Traceback" not in body and all(h in resp.headers for h in HEADERS)
    if resp.status_code == 400:
        assert re.search(r"[\u4e00-\u9fff]", body)


@FUZZ
@given(path=st.sampled_from(["/follow-up/message", "/follow-up/evidence", "/follow-up/objection", "/follow-up/reward/claim",
                             "/follow-up/view", "/follow-up/certificate", "/follow-up/logout", "/follow-up"]),
       form=st.dictionaries(st.sampled_from(["token", "body", "receipt", "method", "payee_name", "bank_name", "account",
                                             "id_number", "declaration", "draft", "pow_challenge", "pow_nonce"]), text,
                            max_size=8))
def test_fuzz_follow_up_forms(client, path, form) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import form_tokens

    t = form_tokens(client.get("/follow-up").get_data(as_text=True))
    resp = client.post(path, data={**form, "csrf_token": t["csrf_token"]})
    body = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400, 401, 429), (path, resp.status_code)
    assert "Traceback" not in body and all(h in resp.headers for h in HEADERS)
