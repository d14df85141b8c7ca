"""Driving the staff pages with Flask's test client: log a member in (password + TOTP)."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from tests.cases.conftest import Member


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf token on page"
    return m.group(1)


def staff_login(app: Any, member: Member) -> Any:
    """A test client with an active staff session for ``member`` (one TOTP step per member)."""
    client = app.test_client()
    token = csrf(client.get("/staff/login").get_data(as_text=True))
    resp = client.post("/staff/login", data={"csrf_token": token, "username": member.username, "password": member.password})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/login/code"), resp.get_data(as_text=True)[:300]
    resp = client.post("/staff/login/code", data={"csrf_token": token, "code": pyotp.TOTP(member.totp).now()})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    client.csrf = token  # bound to the client's CSRF session, valid for every form
    return client
