"""Production mode end to end: `python -m portal serve` (gunicorn, 2 workers) on PostgreSQL + Redis.

Real HTTP on loopback through the API: file, log in with the receipt, read. Then the server's
output (gunicorn access and error log) must contain no client address.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from intake.pow import solve
from tests.conftest import REDIS_URL, drop_pg_database, new_pg_database, provision, require

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, method: str = "GET", body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.mark.postgres
@pytest.mark.redis
def test_gunicorn_workers_on_postgres_and_redis(tmp_path: Path) -> None:
    require("postgres")
    require("redis")
    url = new_pg_database()
    proc = None
    try:
        provision(tmp_path, url, "postgres")
        port = _free_port()
        env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path), "DATABASE_URL": url, "REDIS_URL": REDIS_URL,
               "PORTAL_POW_BITS": "4", "PYTHONUNBUFFERED": "1"}
        log = open(tmp_path / "server.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", "2"],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(120):
            try:
                if _call(base + "/meta")[0] == 200:
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
        receipts = []
        for i in range(6):  # spread over both workers
            ch = _call(base + "/pow")[1]
            status, body = _call(base + "/reports", "POST", {"description": f"第{i}个：仓库里堆放几十吨液化气钢瓶",
                                                              "pow": {"challenge": ch["challenge"], "nonce": solve(ch["challenge"], ch["bits"])}})
            assert status == 201, body
            receipts.append((body["report_number"], body["receipt"]))
        number, receipt = receipts[3]
        ch = _call(base + "/pow?purpose=login")[1]
        status, sess = _call(base + "/sessions", "POST", {"receipt": receipt, "pow": {"challenge": ch["challenge"], "nonce": solve(ch["challenge"], ch["bits"])}})
        assert status == 200, sess
        status, view = _call(base + "/report", token=sess["token"])
        assert status == 200 and view["report_number"] == number
        # the same proof-of-work is refused by whichever worker sees it second
        ch = _call(base + "/pow")[1]
        pw = {"challenge": ch["challenge"], "nonce": solve(ch["challenge"], ch["bits"])}
        assert _call(base + "/reports", "POST", {"description": "重放测试内容", "pow": pw})[0] == 201
        assert _call(base + "/reports", "POST", {"description": "重放测试内容", "pow": pw})[0] == 400
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
        drop_pg_database(url)
    out = (tmp_path / "server.log").read_text()
    assert '"POST /api/v1/reports" 201' in out  # the access log is on…
    assert "127.0.0.1" not in out.replace(f"127.0.0.1:{port}", "")  # …and carries no client address
    assert "重放测试内容" not in out and "液化气" not in out
