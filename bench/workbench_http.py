"""Whole workbench pages through the real Flask app, for bench/workbench_scale.py.

The queue function is not the page: a page also loads the staff session, unseals the personal
key, opens the department grant (HPKE), runs the queue and the header counts, loads the case
records and renders 50 rows. This logs a real handler and a real coordinator in (password +
TOTP) on the benchmark database and times ``GET /staff/…`` with Flask's test client (no network,
no gunicorn: what is left is the application's own time).
"""

from __future__ import annotations

import math
import re
import time
from urllib.parse import quote
from pathlib import Path
from typing import Any

import pyotp


def _login(app: Any, username: str, password: str, secret: str) -> Any:
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/staff/login", data={"csrf_token": token, "username": username, "password": password})
    resp = client.post("/staff/login/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    if resp.status_code != 302:
        raise RuntimeError(f"bench login failed for {username}: {resp.status_code}")
    return client


def _members(url: str, data_dir: Path, recovery_hex: str, department: str) -> list[tuple[str, str, str, str]]:
    from sqlalchemy import select

    from models import Department
    from portal.db import make_engine, make_sessionmaker
    from portal.provisioning import create_staff, department_private_from_recovery

    engine = make_engine(url)
    out = []
    with make_sessionmaker(engine)() as db:
        for role, code in (("handler", department), ("coordinator", "coordination")):
            dept = db.scalar(select(Department).where(Department.code == code))
            private = department_private_from_recovery(db, code, recovery_hex)
            password, secret = "bench passphrase 2026", pyotp.random_base32()
            user = create_staff(db, f"bench-{role}", password, role, f"bench {role}", dept, private, totp_secret=secret)
            user.must_change_password = False
            out.append((role, user.username, password, secret))
        db.commit()
    engine.dispose()
    return out


def time_pages(url: str, data_dir: Path, recovery_hex: str, department: str, words: list[str],
               repeat: int) -> list[tuple[str, float, float, float, int]]:
    """(label, p50, p95, max ms, status) per page and role."""
    from portal import create_app
    from portal.config import Settings

    settings = Settings.from_env(data_dir=data_dir, database_url=url,
                                 limits={"ANY_REQUEST": "1000000/minute", "LOGIN_FAIL": "1000/minute"})
    settings.secure_cookies = False
    app = create_app(settings)
    paths = ["/staff/", "/staff/?page=20", "/staff/?overdue=1", "/staff/?supervised=1", "/staff/?status=all"]
    paths += [f"/staff/?q={quote(w)}" for w in words]
    results = []
    for role, username, password, secret in _members(url, data_dir, recovery_hex, department):
        client = _login(app, username, password, secret)
        for path in paths:
            times, status = [], 0
            for i in range(repeat + 2):
                t0 = time.perf_counter()
                resp = client.get(path)
                status = resp.status_code
                if i >= 2:  # two warm-up requests
                    times.append((time.perf_counter() - t0) * 1000)
            xs = sorted(times)
            pct = lambda p: xs[max(0, math.ceil(p * len(xs)) - 1)]  # noqa: E731
            results.append((f"{role} GET {path}", pct(0.5), pct(0.95), xs[-1], status))
    return results


def print_pages(results: list[tuple[str, float, float, float, int]], target_ms: float) -> str:
    print(f"\nwhole pages through the app (test client): warm, target p95 ≤ {target_ms:.0f} ms")
    print(f"{'page':<52}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  status  result")
    passed = 0
    for label, p50, p95, mx, status in results:
        ok = p95 <= target_ms and status == 200
        passed += ok
        print(f"{label:<52}{p50:9.1f}{p95:9.1f}{mx:9.1f}  {status:>6}  {'PASS' if ok else 'FAIL'}")
    worst = max(results, key=lambda r: r[2])
    return f"pages: {passed}/{len(results)} within {target_ms:.0f} ms (worst {worst[0]} p95 {worst[2]:.1f} ms)"
