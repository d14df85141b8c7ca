"""Load: N concurrent submitters against a real gunicorn + PostgreSQL + Redis on loopback.

Starts `python -m portal serve` (production settings: Argon2id for receipts at the instance's
parameters, the trained triage model, rate limits in Redis) on a fresh PostgreSQL database, then
runs N client threads for a fixed time. Each client fetches a proof-of-work challenge, solves it at
a low test difficulty, and files a report through the JSON API with a unique marker in its text.
Afterwards every acknowledged report is looked up by its receipt in the database and decrypted,
and the rows are counted: the bench prints throughput, latency percentiles, failures by kind,
and `lost` / `duplicated` (both must be 0).

All clients share one loopback address, so the per-source limits are raised for the run (the
global limits too); production limits are per address. Usage:

    python bench/load_submit.py --clients 200 --seconds 60 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PG_ADMIN = os.environ.get("PORTAL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
TEXTS = ["厂里仓库消防通道被货物堵死了，灭火器也过期了", "工地塔吊司机没有证，昨天吊装的时候差点砸到人",
         "加油站卸油的时候旁边有人抽烟打电话", "化工厂储罐区闻到很重的气味，好像在泄漏", "我们矿井下通风机坏了两天还让下井"]


def _call(url: str, body: dict | None = None, timeout: float = 120) -> tuple[int, dict]:
    req = urllib.request.Request(url, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: list[tuple[str, str, str, float]] = []  # number, receipt, marker, finished at
        self.latency: list[float] = []
        self.failures: Counter[str] = Counter()


def client(base: str, stop_at: float, res: Results, bits_solver) -> None:  # type: ignore[no-untyped-def]
    i = 0
    while time.monotonic() < stop_at:
        marker = uuid.uuid4().hex[:12]
        t0 = time.monotonic()
        try:
            status, ch = _call(base + "/pow")
            if status != 200:
                res.failures[f"pow {status}"] += 1
                continue
            nonce = bits_solver(ch["challenge"], ch["bits"])
            status, body = _call(base + "/reports", {"description": f"{TEXTS[i % len(TEXTS)]}（编号{marker}）",
                                                     "pow": {"challenge": ch["challenge"], "nonce": nonce}})
        except (OSError, ValueError) as exc:
            with res.lock:
                res.failures[f"error {type(exc).__name__}"] += 1
            time.sleep(0.2)
            continue
        dt = time.monotonic() - t0
        with res.lock:
            if status == 201 and body.get("receipt"):
                res.acked.append((body["report_number"], body["receipt"], marker, time.monotonic()))
                res.latency.append(dt)
            else:
                res.failures[f"submit {status}"] += 1
        i += 1


def verify(url: str, data_dir: Path, acked: list[tuple[str, str, str, float]]) -> dict[str, int]:
    """Every acknowledged report is present once and decrypts with its receipt to the text sent."""
    from sqlalchemy import func, select

    from intake import service
    from intake.reference import load_reference
    from models import Report
    from portal.db import make_engine, make_sessionmaker
    from secure_store import instance
    from secure_store.files import FileStore

    engine = make_engine(url)
    ctx = service.IntakeContext(instance.load(data_dir), FileStore(data_dir / "store"), load_reference())
    lost = 0
    with make_sessionmaker(engine)() as db:
        rows = db.scalar(select(func.count()).select_from(Report)) or 0
        for number, receipt, marker, _ in acked:
            token = service.login_with_receipt(db, ctx, receipt)
            access = service.resume(db, token) if token else None
            if access is None or access.report.number != number:
                lost += 1
                continue
            text = service.reporter_view(db, ctx, access)["content"]["description"]
            lost += marker not in text
    engine.dispose()
    numbers = [a[0] for a in acked]
    return {"rows": rows, "acked": len(acked), "lost": lost, "duplicated": len(numbers) - len(set(numbers)) + max(0, rows - len(acked))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pow-bits", type=int, default=8)
    args = ap.parse_args()

    import psycopg

    from intake.pow import solve
    from tests.conftest import provision

    name = f"aqjb_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://{PG_ADMIN.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="aqjb-load-"))
    proc = None
    try:
        os.environ.pop("PORTAL_ARGON2_MEMORY_KIB", None)  # production Argon2id (19 MiB, t=2)
        os.environ.pop("PORTAL_ARGON2_TIME_COST", None)
        provision(tmp, url, "postgres")
        port = _free_port()
        limits = {f"PORTAL_LIMIT_{k}": "1000000/minute" for k in ("SUBMIT_POW", "SUBMIT_NOPOW", "SUBMIT_GLOBAL", "ANY_REQUEST")}
        env = {**os.environ, **limits, "PORTAL_DATA_DIR": str(tmp), "DATABASE_URL": url, "REDIS_URL": REDIS,
               "PORTAL_POW_BITS": str(args.pow_bits), "PYTHONUNBUFFERED": "1"}
        log = open(tmp / "server.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", str(args.workers)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(240):
            try:
                if _call(base + "/meta")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            print((tmp / "server.log").read_text())
            return 1
        time.sleep(3)  # every worker warmed its triage model
        res = Results()
        start = time.monotonic()
        stop_at = start + args.seconds
        threads = [threading.Thread(target=client, args=(base, stop_at, res, solve), daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 180)
        elapsed = max(a[3] for a in res.acked) - start if res.acked else args.seconds
        proc.terminate()
        proc.wait(timeout=60)
        proc = None
        check = verify(url, tmp, res.acked)
        lat = sorted(res.latency)
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [0.0] * 99
        out = {"clients": args.clients, "workers": args.workers, "pow_bits": args.pow_bits, "seconds": round(elapsed, 1),
               "acknowledged": len(res.acked), "throughput_per_s": round(len(res.acked) / elapsed, 2),
               "latency_p50_ms": round(q[49] * 1000), "latency_p95_ms": round(q[94] * 1000), "latency_p99_ms": round(q[98] * 1000),
               "failures": dict(res.failures), **check}
        print(json.dumps(out, ensure_ascii=False))
        return 0 if check["lost"] == 0 and check["duplicated"] == 0 else 1
    finally:
        if proc is not None:
            proc.kill()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
