"""Staff login: forced password change, TOTP enrolment, replay, lockout, cookie, timeouts."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from models import AuditEntry, StaffSession, StaffUser
from tests.cases.conftest import add_member
from tests.conftest import Env
from tests.portal.staff_helpers import csrf, staff_login


def _post_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"csrf_token": token, "username": username, "password": password}), token


def test_first_login_changes_password_and_enrols_totp(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    m = add_member(env, "handler", "fire", must_change=True)
    with env.db() as db:  # a brand-new account has no TOTP yet
        db.execute(update(StaffUser).where(StaffUser.id == m.user_id).values(totp_sealed_secret=None, totp_last_step=0))
        db.commit()
    client = app.test_client()
    resp, token = _post_login(client, m.username, m.password)
    assert resp.headers["Location"].endswith("/staff/login/password")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert client.get("/staff/").status_code == 302  # no workbench before the steps are done
    bad = client.post("/staff/login/password", data={"csrf_token": token, "new_password": "short", "confirm": "short"})
    assert bad.status_code == 400 and "至少12个字符" in bad.get_data(as_text=True)
    new = "a much longer passphrase 2026"
    ok = client.post("/staff/login/password", data={"csrf_token": token, "new_password": new, "confirm": new})
    assert ok.headers["Location"].endswith("/staff/login/enrol")
    page = client.get("/staff/login/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    assert "<svg" in page
    wrong = client.post("/staff/login/enrol", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and "动态验证码错误" in wrong.get_data(as_text=True)
    done = client.post("/staff/login/enrol", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"].endswith("/staff/home")
    assert client.get("/staff/").status_code == 200
    with env.db() as db:
        user = db.get(StaffUser, m.user_id)
        assert not user.must_change_password and user.totp_last_step > 0
        assert secret.encode() not in user.totp_sealed_secret  # sealed, not stored in clear
        actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.actor == m.username)))
        assert {"password_change", "totp_enrol", "login"} <= actions
    # the old password no longer works, the new one does (and asks for TOTP)
    assert _post_login(app.test_client(), m.username, m.password)[0].status_code == 401
    assert _post_login(app.test_client(), m.username, new)[0].headers["Location"].endswith("/staff/login/code")


def test_totp_code_cannot_be_replayed(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    m = add_member(env, "head", "fire")
    staff_login(app, m)
    client = app.test_client()
    resp, token = _post_login(client, m.username, m.password)
    again = client.post("/staff/login/code", data={"csrf_token": token, "code": pyotp.TOTP(m.totp).now()})
    assert again.status_code == 401 and "已使用" in again.get_data(as_text=True)


def test_lockout_after_failures_and_unknown_user_message_is_the_same(env: Env) -> None:
    app = env.app(limits={"LOGIN_FAIL": "1000/minute", "LOGIN_FAIL_GLOBAL": "1000/minute"})
    m = add_member(env, "handler", "fire")
    client = app.test_client()
    unknown = _post_login(client, "nobody-here", "whatever")[0].get_data(as_text=True)
    for _ in range(5):
        resp = _post_login(client, m.username, "wrong password!")[0]
        assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert "用户名或密码错误" in unknown
    locked = _post_login(client, m.username, m.password)[0]
    assert locked.status_code == 401 and "临时锁定" in locked.get_data(as_text=True)


def test_login_is_throttled_per_source(env: Env) -> None:
    app = env.app(limits={"LOGIN_FAIL": "3/10minutes"})
    client = app.test_client()
    codes = [_post_login(client, "ghost", "nope")[0].status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_idle_timeout_and_logout(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    m = add_member(env, "handler", "fire")
    client = staff_login(app, m)
    with env.db() as db:
        from models.base import utcnow

        db.execute(update(StaffSession).where(StaffSession.user_id == m.user_id)
                   .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert client.get("/staff/").status_code == 302
    m2 = add_member(env, "handler", "fire")
    c2 = staff_login(app, m2)
    c2.post("/staff/logout", data={"csrf_token": c2.csrf})
    assert c2.get("/staff/").status_code == 302
    with env.db() as db:
        assert db.scalar(select(StaffSession).where(StaffSession.user_id == m2.user_id)) is None


def test_session_row_holds_no_usable_key(env: Env, app) -> None:  # type: ignore[no-untyped-def]
    """The database row alone does not open the personal key: it is sealed under the cookie."""
    from secure_store import envelope

    m = add_member(env, "handler", "fire")
    staff_login(app, m)
    with env.db() as db:
        row = db.scalar(select(StaffSession).where(StaffSession.user_id == m.user_id))
        with pytest.raises(envelope.DecryptionError):
            envelope.open_sealed(bytes(32), row.sealed_personal_key, b"staff-session")
        assert len(row.token_hash) == 32


@pytest.mark.parametrize("role,dept,lands", [("finance", "finance", "待财务审批"), ("admin", None, "账号管理"),
                                             ("auditor", None, "案件队列")])
def test_each_role_lands_on_its_own_page(env: Env, app, role: str, dept: str | None, lands: str) -> None:  # type: ignore[no-untyped-def]
    client = staff_login(app, add_member(env, role, dept))
    resp = client.get("/staff/home", follow_redirects=True)
    assert resp.status_code == 200 and lands in resp.get_data(as_text=True)
