"""A 200 MB video through real gunicorn: the worker's peak memory must not grow with the file.

Starts `python -m portal serve` (1 worker) on loopback, streams a synthetic 200 MB MP4 from disk
with http.client (chunked from a file, never built in memory here either), then reads the worker's
peak resident set (VmHWM) from /proc. Prints the figures; exits 1 if the file is lost.

    .venv/bin/python bench/upload_memory.py [--mb 200]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) // 1024
    return -1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=199, help="video size (the cap is 200 MB)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aqjb-upload-"))
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp), "PORTAL_POW_BITS": "0", "PORTAL_SECURE_COOKIES": "0"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "portal", "init"], cwd=REPO, env=env, check=True, capture_output=True)
    video = tmp / "video.mp4"
    with open(video, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
        block = os.urandom(1024 * 1024)
        for _ in range(args.mb):
            fh.write(block)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "portal", "serve", "--port", str(port), "--workers", "1"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/api/v1/pow")
                pow_ = json.loads(c.getresponse().read())
                break
            except OSError:
                time.sleep(0.2)
        worker = int(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()[0])
        before = _vm(worker, "VmRSS:")
        boundary = uuid.uuid4().hex
        report = json.dumps({"description": "视频证据：仓库里违规储存液化气", "pow": {"challenge": pow_["challenge"], "nonce": "0"}})
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{report}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"v.mp4\"\r\n"
                f"Content-Type: video/mp4\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = len(head) + video.stat().st_size + len(tail)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        t0 = time.perf_counter()
        c.putrequest("POST", "/api/v1/reports")
        c.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        c.putheader("Content-Length", str(size))
        c.endheaders()
        c.send(head)
        with open(video, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                c.send(chunk)
        c.send(tail)
        resp = c.getresponse()
        body = json.loads(resp.read())
        dt = time.perf_counter() - t0
        peak = _vm(worker, "VmHWM:")
        stored = sum(p.stat().st_size for p in (tmp / "store" / "files").rglob("*") if p.is_file())
        leftovers = list((tmp / "store" / "tmp").glob("*"))
        print(f"upload: {args.mb} MB video → HTTP {resp.status} in {dt:.1f} s ({args.mb / dt:.0f} MB/s): {body.get('report_number') or body}")
        print(f"worker RSS before: {before} MB; peak during upload (VmHWM): {peak} MB; growth {peak - before} MB")
        print(f"encrypted file on disk: {stored / 1e6:.1f} MB; spool leftovers: {len(leftovers)}")
        return 0 if resp.status == 201 and stored > args.mb * 1024 * 1024 and not leftovers else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
