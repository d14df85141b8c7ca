"""Independent check of the standard-item matcher on the labelled corpus (no tuning here).

Usage: ``python bench/standards_corpus_check.py [--per-type 150] [--lexical]``. Samples records of
data/corpus/*.jsonl per report type and prints how often the matcher returns something, and how
often the top item's sector equals the record's sector. Out-of-scope records should match nothing;
major hazards should mostly match; the thresholds were tuned on the hand-written fixtures only,
so this is an out-of-sample view.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage import standards  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-type", type=int, default=150)
    ap.add_argument("--lexical", action="store_true", help="lexical-only mode")
    args = ap.parse_args()
    recs = [json.loads(l) for f in sorted(glob.glob(str(ROOT / "data" / "corpus" / "*.jsonl")))
            for l in open(f, encoding="utf-8") if l.strip()]
    by_type = defaultdict(list)
    for r in recs:
        by_type[r["report_type"]].append(r)
    rng = random.Random(0)
    sectors_with_items = set(standards.items_by_sector())
    t0 = time.perf_counter()
    n = 0
    for rt, rows in sorted(by_type.items()):
        sample = rng.sample(rows, min(args.per_type, len(rows)))
        matched = same_sector = eligible = 0
        for r in sample:
            m = standards.match(r["text"], use_semantic=False if args.lexical else None)
            n += 1
            matched += bool(m)
            if r.get("sector") in sectors_with_items:
                eligible += 1
                same_sector += bool(m) and m[0].sector == r["sector"]
        print(f"{rt:20s} n={len(sample):4d}  any match {matched / len(sample):.2f}  "
              f"top item in the record's sector {same_sector / max(eligible, 1):.2f} "
              f"(of {eligible} records whose sector has items)")
    print(f"{(time.perf_counter() - t0) / n * 1000:.0f} ms/report, mode "
          f"{'lexical' if args.lexical else 'combined (if encoder)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
