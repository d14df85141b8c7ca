"""Sustained encrypted submissions per second through the whole web stack (in-process WSGI).

Each submission is a full POST of the HTML form: CSRF, proof-of-work check (difficulty 0 here,
so the client's work is not counted), validation, triage (manual routing unless --real-triage),
Argon2id receipt derivation with the production parameters, sealing, HPKE wrapping for each
reader, Ed25519 certificate, an encrypted photo (EXIF stripped) when --photo, and the commit.
Afterwards every report is opened with the coordinating office's key to prove nothing was lost.

    .venv/bin/python bench/submit_throughput.py --count 200 --threads 4 [--photo] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--photo", action="store_true", help="attach a 1600×1200 JPEG with EXIF to each report")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--real-triage", action="store_true", help="use the trained triage model")
    args = ap.parse_args()

    for k in ("PORTAL_ARGON2_MEMORY_KIB", "PORTAL_ARGON2_TIME_COST"):
        os.environ.pop(k, None)  # production Argon2id parameters
    from sqlalchemy import select

    import triage
    from intake import service
    from models import Department, Report
    from portal.provisioning import department_private_from_recovery
    from tests.conftest import jpeg_with_exif, manual_routing, provision

    if not args.real_triage:
        triage.route = manual_routing  # type: ignore[assignment]
    tmp = Path(tempfile.mkdtemp(prefix="aqjb-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'portal.db'}"
    if args.database_url:
        from sqlalchemy import create_engine, inspect

        engine = create_engine(url)
        if inspect(engine).get_table_names():
            print("refusing: --database-url must name an EMPTY database (departments and keys are created fresh)")
            return 2
        engine.dispose()
    env = provision(tmp, url, "bench")
    app = env.app(limits={k: "1000000/hour" for k in ("SUBMIT_POW", "SUBMIT_NOPOW", "SUBMIT_GLOBAL", "UPLOAD")})
    photo = jpeg_with_exif(size=(1600, 1200)) if args.photo else None

    latencies: list[float] = []
    failures: list[int] = []
    numbers: list[str] = []
    lock = threading.Lock()
    todo = iter(range(args.count))

    def worker() -> None:
        client = app.test_client()
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            page = client.get("/report").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            ch = re.search(r'name="pow_challenge" value="([^"]+)"', page).group(1)
            data = {"csrf_token": csrf, "pow_challenge": ch, "pow_nonce": "0",
                    "description": f"第{i}号压测举报：化工厂储罐区可燃气体报警器长期损坏，夜间违规卸车。" * 3}
            if photo:
                data["attachments"] = (io.BytesIO(photo), "photo.jpg")
            t0 = time.perf_counter()
            r = client.post("/report", data=data, content_type="multipart/form-data")
            dt = time.perf_counter() - t0
            with lock:
                if r.status_code == 200:
                    latencies.append(dt)
                    numbers.append(re.search(r'id="report-number">([^<]+)<', r.get_data(as_text=True)).group(1))
                else:
                    failures.append(r.status_code)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start

    with env.db() as db:
        coord = db.scalar(select(Department).where(Department.code == "coordination"))
        key = department_private_from_recovery(db, "coordination", env.recovery_hex)
        ok = 0
        for number in numbers:
            rep = db.scalar(select(Report).where(Report.number == number))
            if rep and service.open_as_department(rep, coord, key)["content"]["description"].startswith("第"):
                ok += 1
        stored = db.query(Report).count()
    lat = sorted(latencies)
    print(f"database: {url.split('://')[0]}  threads: {args.threads}  photo: {bool(photo)}  cpus: {os.cpu_count()}")
    print(f"submissions: {len(latencies)} ok, {len(failures)} failed in {wall:.1f} s")
    print(f"throughput: {len(latencies) / wall:.1f} submissions/s")
    if lat:
        print(f"latency: p50 {statistics.median(lat) * 1000:.0f} ms  p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.0f} ms  "
              f"max {lat[-1] * 1000:.0f} ms")
    print(f"verified decryptable: {ok}/{len(numbers)}; rows stored: {stored}; lost: {len(numbers) - ok}")
    return 0 if ok == len(numbers) == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
