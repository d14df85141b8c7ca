"""CSRF, honeypot, proof-of-work replay, security headers and rate limits (memory and Redis)."""

import pytest

from tests.conftest import Env, form_tokens, login, receipt_of, require, solve_pow, submit_report, REDIS_URL


def test_csrf_missing_or_forged_is_refused_but_nothing_is_lost(client) -> None:
    page = client.get("/report").get_data(as_text=True)
    t = form_tokens(page)
    for token in (None, "forged-token"):
        data = {"description": "危化品仓库门口堆满了纸箱", "address": "五女店镇", "pow_challenge": t["pow_challenge"],
                "pow_nonce": solve_pow(t["pow_challenge"])}
        if token:
            data["csrf_token"] = token
        r = client.post("/report", data=data)
        assert r.status_code == 400
        html = r.get_data(as_text=True)
        assert "安全校验" in html and "危化品仓库门口堆满了纸箱" in html and "五女店镇" in html
    other = client.post("/follow-up/message", data={"token": "x", "body": "hi"})
    assert other.status_code == 400 and "安全校验" in other.get_data(as_text=True)


def test_honeypot_gets_an_error_not_a_receipt(client) -> None:
    r = submit_report(client, {"description": "工地塔吊没验收就用了", "website": "http://spam"})
    assert r.status_code == 400 and "receipt-code" not in r.get_data(as_text=True)


def test_replayed_proof_of_work_is_refused(env: Env) -> None:
    app = env.app(pow_bits=8)
    client = app.test_client()
    page = client.get("/report").get_data(as_text=True)
    t = form_tokens(page)
    nonce = solve_pow(t["pow_challenge"])
    data = {"csrf_token": t["csrf_token"], "pow_challenge": t["pow_challenge"], "pow_nonce": nonce,
            "description": "水库大坝有裂缝还在渗水"}
    first = client.post("/report", data=data)
    assert first.status_code == 200
    again = client.post("/report", data=data)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "已被使用过" in html and "水库大坝有裂缝还在渗水" in html
    fresh = client.get("/pow/challenge").get_json()["challenge"]
    import hashlib

    from intake.pow import leading_zero_bits

    bad = next(str(i) for i in range(1000)  # a nonce that is certainly not a solution (was "1": wrong 1 time in 256)
               if leading_zero_bits(hashlib.sha256(f"{fresh}:{i}".encode()).digest()) < 8)
    wrong = client.post("/report", data={**data, "pow_challenge": fresh, "pow_nonce": bad})
    assert wrong.status_code == 400


def test_no_javascript_submissions_fall_under_the_stricter_limit(env: Env) -> None:
    client = env.app(limits={"SUBMIT_NOPOW": "2/hour"}).test_client()
    for _ in range(2):
        assert submit_report(client, {"description": "网吧安全出口锁着"}, with_pow=False).status_code == 200
    r = submit_report(client, {"description": "网吧安全出口锁着"}, with_pow=False)
    assert r.status_code == 429 and "网吧安全出口锁着" in r.get_data(as_text=True)
    assert submit_report(client, {"description": "网吧安全出口锁着"}, with_pow=True).status_code == 200


def test_receipt_guessing_is_throttled_per_source_and_globally(env: Env) -> None:
    client = env.app(limits={"LOGIN_FAIL": "3/10minutes"}).test_client()
    for _ in range(3):
        assert login(client, "1111-2222-3333-4444").status_code == 401
    r = login(client, "1111-2222-3333-4444")
    assert r.status_code == 429 and "次数过多" in r.get_data(as_text=True)
    other = env.app(limits={"LOGIN_FAIL": "100/10minutes", "LOGIN_FAIL_GLOBAL": "2/hour"}).test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    login(other, "1111-2222-3333-4444")
    login(other, "1111-2222-3333-4445")
    other.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # a different source hits the global ceiling
    assert login(other, "1111-2222-3333-4446").status_code == 429


def test_security_headers_on_every_response(client) -> None:
    for path in ("/", "/report", "/follow-up", "/api/v1/meta", "/no-such-page", "/static/portal.css"):
        h = client.get(path).headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert h["Referrer-Policy"] == "no-referrer" and h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        if not path.startswith("/static"):
            assert h["Cache-Control"] == "no-store"
    html = client.get("/report").get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "http://" not in html.replace("http://127.0.0.1", "")


@pytest.mark.redis
def test_limits_are_shared_by_workers_through_redis(env: Env) -> None:
    """Two app instances (as two gunicorn workers) with one Redis see one budget."""
    require("redis")
    import redis as redis_lib

    prefix = "tr" + env.backend
    a = env.app(redis_url=REDIS_URL, limiter_prefix=prefix, limits={"LOGIN_FAIL": "3/10minutes"})
    b = env.app(redis_url=REDIS_URL, limiter_prefix=prefix, limits={"LOGIN_FAIL": "3/10minutes"})
    assert a.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    ca, cb = a.test_client(), b.test_client()
    ca.environ_base["REMOTE_ADDR"] = cb.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    try:
        assert login(ca, "1111-2222-3333-4444").status_code == 401
        assert login(cb, "1111-2222-3333-4444").status_code == 401
        assert login(ca, "1111-2222-3333-4444").status_code == 401
        assert login(cb, "1111-2222-3333-4444").status_code == 429
        keys = redis_lib.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
        assert keys and all(b"10.9.9.9" not in k for k in keys)  # addresses never reach Redis
    finally:
        r = redis_lib.Redis.from_url(REDIS_URL)
        for k in r.keys(f"*{prefix}*"):
            r.delete(k)


def test_client_sent_routing_is_ignored(client, env: Env) -> None:
    from sqlalchemy import select

    from models import Department, Report

    r = submit_report(client, {"description": "饭店后厨液化气罐放在灶台旁边", "department": "fire", "urgency": "critical",
                               "sector_hint": "fire_safety"})
    assert r.status_code == 200
    with env.db() as db:
        rep = db.scalars(select(Report).order_by(Report.id.desc())).first()
        assert db.get(Department, rep.department_id).code == "coordination" and rep.urgency == "medium"
