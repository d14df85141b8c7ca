"""Latency of route() on this machine: p50/p95 per single report (warm) and batch throughput.

Why: the portal calls :func:`triage.route` inside the submission request; the target is p95 ≤ 30 ms
per report including the transformer where one is used (the standards matcher's semantic part).
Run after ``python -m triage train``:

    .venv/bin/python bench/triage_latency.py [--n 200] [--artifacts DIR] [--texts FILE.jsonl]

Prints one line per mode: models only, + lexical standards, + semantic standards (encoder), and
the batch throughput of the classifier (``Triager.classify_batch``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage import routing  # noqa: E402
from triage.data import load_records  # noqa: E402


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _time_single(texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        t0 = time.perf_counter()
        routing.route(t)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--artifacts", default=None)
    ap.add_argument("--texts", default="data/heldout/heldout.jsonl")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--no-semantic", action="store_true", help="skip the e5 standards mode (slow to load)")
    args = ap.parse_args()
    if args.artifacts:
        os.environ["TRIAGE_ARTIFACTS"] = args.artifacts
    texts = [r["text"] for r in load_records([args.texts])][: args.n]
    if not texts:
        sys.exit(f"no texts in {args.texts}")
    t0 = time.perf_counter()
    tri = routing.get_triager()
    if tri is None:
        sys.exit("no artifacts: run `python -m triage train` first")
    print(f"load {time.perf_counter() - t0:.2f}s; {len(texts)} texts, mean {statistics.mean(map(len, texts)):.0f} chars;"
          f" cpu cores {os.cpu_count()}; load avg {os.getloadavg()[0]:.1f}")
    modes = [("models only", {"TRIAGE_STANDARDS": "0"}),
             ("+ standards lexical (default)", {"TRIAGE_STANDARDS": "lexical"}),
             ("+ standards semantic (e5)", {"TRIAGE_STANDARDS": "semantic"})]
    if args.no_semantic:
        modes = modes[:2]
    for name, env in modes:
        os.environ.update(env)
        _time_single(texts[:10])  # warm (loads the encoder in the semantic mode)
        ms = _time_single(texts)
        print(f"{name:30s} p50 {_pct(ms, 0.5):6.1f} ms  p95 {_pct(ms, 0.95):6.1f} ms  max {max(ms):6.1f} ms")
    os.environ["TRIAGE_STANDARDS"] = "0"
    tri.with_standards = False
    t0 = time.perf_counter()
    done = 0
    for i in range(0, len(texts), args.batch):
        done += len(tri.classify_batch(texts[i : i + args.batch]))
    dt = time.perf_counter() - t0
    print(f"batch classify (models, batch {args.batch}): {done / dt:.0f} reports/s")


if __name__ == "__main__":
    main()
