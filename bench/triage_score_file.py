"""Score the trained triage model on a labelled JSONL file (corpus format) and list its misses.

For development sets (e.g. data/dev/urgency_dev.jsonl). Never point --show-misses at
data/heldout/: looking at held-out errors turns it into a tuning set.

    .venv/bin/python bench/triage_score_file.py data/dev/urgency_dev.jsonl [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--show-misses", action="store_true", help="print critical reports not flagged critical")
    args = ap.parse_args()
    if "heldout" in args.file and args.show_misses:
        print("refusing to show misses on the held-out set")
        return 2
    from triage.data import read_jsonl
    from triage.evaluate import heldout_scores
    from triage.routing import classify

    records = list(read_jsonl(args.file))
    results = [classify(r["text"]) for r in records]
    print(json.dumps(heldout_scores(results, records), ensure_ascii=False, indent=1))
    if args.show_misses:
        for r, res in zip(records, results):
            if r["urgency"] == "critical" and res.urgency != "critical":
                print(f"MISS {r['id']} [{res.urgency}] {r['text'][:90]}")
            elif r["urgency"] != "critical" and res.urgency == "critical":
                print(f"FALSE {r['id']} [{r['urgency']}] {r['text'][:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
