"""Reporter journeys through the HTML forms (no JavaScript needed anywhere)."""

import re

from tests.conftest import (Env, form_tokens, jpeg_with_exif, login, number_of, pdf_with_author, receipt_of,
                            submit_report)


def test_file_with_photo_get_receipt_come_back_and_read(client) -> None:
    r = submit_report(client, {"description": "灵井镇某木器厂打磨车间粉尘很厚，除尘器没有泄爆口", "town": "lingjing",
                               "enterprise": "某木器厂"}, files=[(jpeg_with_exif(), "IMG_0001.jpg")])
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    page = r.get_data(as_text=True)
    receipt, number = receipt_of(page), number_of(page)
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{4}", receipt)
    assert r.headers["Cache-Control"] == "no-store"
    assert "set-cookie" not in {k.lower() for k in r.headers.keys()} or "aqjb_csrf" in r.headers.get("Set-Cookie", "")

    case = login(client, receipt)
    assert case.status_code == 200
    html = case.get_data(as_text=True)
    assert number in html and "粉尘很厚" in html and "IMG_0001.jpg" in html and "image/jpeg" in html
    assert "已提交，等待受理" in html


def test_follow_up_message_evidence_certificate_logout(client) -> None:
    page = submit_report(client, {"description": "燃气管线上面盖了一排彩钢房"}).get_data(as_text=True)
    html = login(client, receipt_of(page)).get_data(as_text=True)
    t = form_tokens(html)
    r = client.post("/follow-up/message", data={**t, "body": "补充：彩钢房里住着人"})
    assert r.status_code == 200 and "留言已发送" in r.get_data(as_text=True) and "彩钢房里住着人" in r.get_data(as_text=True)
    import io

    r = client.post("/follow-up/evidence", data={**t, "attachments": [(io.BytesIO(pdf_with_author()), "现场.pdf")]},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "已补充1个证据材料" in r.get_data(as_text=True)
    cert = client.post("/follow-up/certificate", data=t)
    assert cert.status_code == 200 and cert.mimetype == "application/json"
    assert "attachment" in cert.headers["Content-Disposition"]
    assert cert.get_json()["report_number"] in html
    client.post("/follow-up/logout", data=t)
    expired = client.post("/follow-up/view", data=t)
    assert expired.status_code == 401 and "会话已过期" in expired.get_data(as_text=True)


def test_expired_session_keeps_the_unsent_message(client) -> None:
    page = client.get("/follow-up").get_data(as_text=True)
    t = form_tokens(page)
    r = client.post("/follow-up/message", data={"csrf_token": t["csrf_token"], "token": "bogus", "body": "这段话不能丢"})
    assert r.status_code == 401
    assert "这段话不能丢" in r.get_data(as_text=True)


def test_empty_text_keeps_everything_typed_and_uploaded(client, env: Env) -> None:
    r = submit_report(client, {"description": "", "address": "许昌路18号", "enterprise": "鑫源化工",
                               "identity_mode": "named", "name": "王五", "phone": "13800000000"},
                      files=[(jpeg_with_exif(), "证据1.jpg")])
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "请填写发生了什么" in html and 'aria-invalid="true"' in html
    assert "许昌路18号" in html and "鑫源化工" in html and "王五" in html and "13800000000" in html
    assert "证据1.jpg" in html  # the upload is carried, not lost
    pending = re.findall(r'name="pending" value="([^"]+)"', html)
    assert len(pending) == 1
    # second attempt: fix the text, no re-upload; the carried photo is attached
    t = form_tokens(html)
    from tests.conftest import solve_pow

    r2 = client.post("/report", data={"csrf_token": t["csrf_token"], "pow_challenge": t["pow_challenge"],
                                      "pow_nonce": solve_pow(t["pow_challenge"]), "description": "鑫源化工储罐区没有可燃气体报警器",
                                      "pending": pending, "pending_present": "1", "keep_pending": [pending[0].split(".")[0]]},
                     content_type="multipart/form-data")
    assert r2.status_code == 200, r2.get_data(as_text=True)[:300]
    case = login(client, receipt_of(r2.get_data(as_text=True))).get_data(as_text=True)
    assert "证据1.jpg" in case
    assert not list((env.data_dir / "store" / "tmp").glob(pending[0].split(".")[0] + "*"))  # spool released


def test_wrong_type_and_oversized_files_get_field_errors(client) -> None:
    r = submit_report(client, {"description": "有人在上坟烧纸，山上很干"},
                      files=[(b"MZ\x90\x00This is an exe", "photo.jpg"), (jpeg_with_exif(), "ok.jpg")])
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "不支持该文件类型" in html and "photo.jpg" in html
    assert "ok.jpg" in html and "有人在上坟烧纸" in html  # the good file and the text survive


def test_oversized_image_is_refused_with_its_limit(client, monkeypatch) -> None:
    from secure_store import sanitize

    monkeypatch.setitem(sanitize.KINDS, "image/jpeg", sanitize.Kind("image/jpeg", "JPEG图片", 1000, "image", "jpg"))
    r = submit_report(client, {"description": "电梯经常困人，物业不管"}, files=[(jpeg_with_exif(size=(400, 400)), "big.jpg")])
    assert r.status_code == 400 and "不能超过" in r.get_data(as_text=True)


def test_corrupt_image_found_while_cleaning_keeps_the_others(client) -> None:
    good = jpeg_with_exif()
    bad = good[:300]  # sniffs as JPEG, fails to decode
    r = submit_report(client, {"description": "叉车司机没有证，天天在车间里开"}, files=[(good, "a.jpg"), (bad, "b.jpg")])
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "“b.jpg”" in html and "a.jpg" in html


def test_forged_receipt_is_refused_and_counted(client) -> None:
    r = login(client, "1234-5678-1234-5678")
    assert r.status_code == 401 and "查询码不正确" in r.get_data(as_text=True)
    r = login(client, "not a receipt")
    assert r.status_code == 401


def test_pages_render_for_reporters(client) -> None:
    for path in ("/", "/report", "/follow-up", "/protections"):
        r = client.get(path)
        assert r.status_code == 200 and "安全生产举报平台" in r.get_data(as_text=True)
    assert client.get("/no-such-page").status_code == 404
    assert "页面不存在" in client.get("/no-such-page").get_data(as_text=True)


def test_critical_report_tells_the_reporter_to_call_119(client, monkeypatch) -> None:
    import triage

    monkeypatch.setattr(triage, "route", lambda text, **kw: triage.TriageResult(
        department="emergency", confidence=0.95, needs_review=False, urgency="critical", urgency_score=97))
    html = submit_report(client, {"description": "化工厂储罐正在泄漏，白烟越来越大"}).get_data(as_text=True)
    assert 'id="critical-notice"' in html and "119" in html
    from tests.conftest import manual_routing

    monkeypatch.setattr(triage, "route", manual_routing)  # medium urgency
    calm = submit_report(client, {"description": "去年工地上的脚手架好像不太牢"})
    assert 'id="critical-notice"' not in calm.get_data(as_text=True)


def test_housekeeping_removes_old_spools_spent_pow_and_sessions(env, app) -> None:
    import os
    import time
    from datetime import datetime, timedelta, timezone

    from intake import housekeeping
    from models import PowSpent

    store = app.extensions["aqjb"].store
    name, fh = store.open_tmp()
    fh.close()
    old = time.time() - housekeeping.SPOOL_MAX_AGE_S - 60
    os.utime(store.tmp_path(name), (old, old))
    with env.db() as db:
        db.add(PowSpent(digest=os.urandom(32), expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
        db.commit()
        done = housekeeping.run(db, store)
    assert done["spools"] >= 1 and done["pow_spent"] >= 1
    assert not store.tmp_path(name).exists()
