"""Measure the standard-item matcher: lexical vs semantic vs combined, top-1/top-3, rejections.

Usage: ``python bench/standards_eval.py [--folds 5]``. Reads
tests/triage/fixtures/standards_pairs.jsonl (report text -> acceptable item ids; [] = must match
nothing), scores every item once per mode, grid-searches the mixing weight and threshold, and
prints in-sample figures plus k-fold cross-validated ones (threshold/weight chosen on the other
folds) so the tuned constants in triage/standards.py are not judged on the data that chose them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage import standards  # noqa: E402

FIXTURES = ROOT / "tests" / "triage" / "fixtures" / "standards_pairs.jsonl"


def load_pairs():
    return [json.loads(l) for l in FIXTURES.read_text(encoding="utf-8").splitlines() if l.strip()]


def components(pairs, use_semantic):
    ids = [it.id for it in standards.load_items()]
    lex, sem = [], []
    for p in pairs:
        s = standards.score_items(p["text"], use_semantic=use_semantic)
        lex.append(s.lexical)
        sem.append(s.semantic if s.semantic is not None else np.zeros_like(s.lexical))
    return ids, np.array(lex), np.array(sem)


def evaluate(scores, pairs, ids, thr):
    """top-1, top-3 (positives, a miss if nothing clears thr), rank@1/@3 ignoring thr, neg-correct."""
    t1 = t3 = r1 = r3 = npos = negok = nneg = 0
    for row, p in zip(scores, pairs):
        order = np.argsort(-row)
        kept = [ids[i] for i in order[:3] if row[i] >= thr]
        exp = set(p["expected"])
        if exp:
            npos += 1
            t1 += bool(kept) and kept[0] in exp
            t3 += bool(exp & set(kept))
            top = [ids[i] for i in order[:3]]
            r1 += top[0] in exp
            r3 += bool(exp & set(top))
        else:
            nneg += 1
            negok += not kept
    return dict(top1=t1 / npos, top3=t3 / npos, rank1=r1 / npos, rank3=r3 / npos,
                neg_rejected=negok / max(nneg, 1), npos=npos, nneg=nneg)


def objective(m):
    return m["top1"] + m["neg_rejected"]


def tune(lex, sem, pairs, ids, weights, idx):
    best = None
    for w in weights:
        sc = (1 - w) * lex[idx] + w * sem[idx]
        sub = [pairs[i] for i in idx]
        for thr in np.arange(0.10, 1.20, 0.01):
            m = evaluate(sc, sub, ids, thr)
            key = (objective(m), m["top3"], -abs(thr - 0.5))
            if best is None or key > best[0]:
                best = (key, w, float(thr))
    return best[1], best[2]


def report(name, lex, sem, pairs, ids, weights, folds):
    all_idx = np.arange(len(pairs))
    w, thr = tune(lex, sem, pairs, ids, weights, all_idx)
    m = evaluate((1 - w) * lex + w * sem, pairs, ids, thr)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(pairs))
    cv = []
    for k in range(folds):
        test = perm[k::folds]
        train = np.setdiff1d(all_idx, test)
        wk, tk = tune(lex, sem, pairs, ids, weights, train)
        sub = [pairs[i] for i in test]
        cv.append((evaluate(((1 - wk) * lex + wk * sem)[test], sub, ids, tk), len(test)))
    agg = {k: sum(m_[k] * n for m_, n in cv) / len(pairs) for k in ("top1", "top3", "neg_rejected")}
    print(f"{name:9s} weight={w:.2f} thr={thr:.2f} | in-sample top1 {m['top1']:.3f} top3 {m['top3']:.3f} "
          f"rank1 {m['rank1']:.3f} rank3 {m['rank3']:.3f} neg-rejected {m['neg_rejected']:.3f} | "
          f"{folds}-fold CV top1 {agg['top1']:.3f} top3 {agg['top3']:.3f} neg-rejected {agg['neg_rejected']:.3f}")
    return w, thr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    pairs = load_pairs()
    npos = sum(1 for p in pairs if p["expected"])
    print(f"{len(pairs)} pairs ({npos} positive, {len(pairs) - npos} must-match-nothing), "
          f"{len(standards.load_items())} items")
    t0 = time.perf_counter()
    ids, lex, _ = components(pairs, use_semantic=False)
    t_lex = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, _, sem = components(pairs, use_semantic=True)
    t_sem = time.perf_counter() - t0
    print(f"scoring time: lexical {t_lex / len(pairs) * 1000:.1f} ms/report, "
          f"with semantic {t_sem / len(pairs) * 1000:.1f} ms/report (first includes item embedding)")
    report("lexical", lex, sem, pairs, ids, [0.0], args.folds)
    report("semantic", lex, sem, pairs, ids, [1.0], args.folds)
    report("combined", lex, sem, pairs, ids, [round(x, 2) for x in np.arange(0.1, 0.95, 0.1)], args.folds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
