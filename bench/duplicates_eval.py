"""Measure duplicate detection on tests/triage/fixtures/duplicate_pairs.jsonl.

Usage: ``python bench/duplicates_eval.py``. Sketches are random given the key, so every figure
is pooled over several keys. For lexical (MinHash), semantic (SimHash) and mixed scores, with and
without the place gate, it picks the threshold maximising F1 over the pooled pairs and prints
precision/recall, 5-fold cross-validated precision/recall (folds by pair, thresholds chosen on the
other folds), and the mean score per pair kind. The last lines check the shipped constants end to
end through ``find_duplicates``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage import duplicates  # noqa: E402

FIXTURES = ROOT / "tests" / "triage" / "fixtures" / "duplicate_pairs.jsonl"
KEYS = ("k1", "k2", "k3", "k4", "k5", "k6")


def prf(pred, labels):
    tp = int(np.sum(pred & labels)); fp = int(np.sum(pred & ~labels)); fn = int(np.sum(~pred & labels))
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def best_thr(scores, labels):
    best = None
    for thr in np.arange(0.05, 1.0, 0.01):
        p, r, f = prf(scores >= thr, labels)
        if best is None or (f, p) > best[0]:
            best = ((f, p), float(thr))
    return best[1]


def main() -> int:
    pairs = [json.loads(l) for l in FIXTURES.read_text(encoding="utf-8").splitlines() if l.strip()]
    n = len(pairs)
    labels1 = np.array([p["dup"] for p in pairs])
    kinds = np.array([p["kind"] for p in pairs])
    texts = sorted({t for p in pairs for t in (p["a"], p["b"])})
    from triage.encoder import embed

    vecs = dict(zip(texts, embed(texts)))
    jac, cos, gate = [], [], []
    err_j, err_c = [], []
    for key in KEYS:
        os.environ["TRIAGE_FINGERPRINT_KEY"] = key
        for p in pairs:
            fa = duplicates.fingerprint(p["a"], place=p.get("place_a"), embedding=vecs[p["a"]])
            fb = duplicates.fingerprint(p["b"], place=p.get("place_b"), embedding=vecs[p["b"]])
            j, c, pl = duplicates.components(fa, fb)
            jac.append(j); cos.append(c)
            gate.append(duplicates.PLACE_PENALTY if pl is not None and pl < duplicates.PLACE_MIN else 1.0)
            sa, sb = duplicates.shingles(p["a"]), duplicates.shingles(p["b"])
            err_j.append(abs(j - len(sa & sb) / len(sa | sb)))
            err_c.append(abs(c - float(vecs[p["a"]] @ vecs[p["b"]])))
    jac, cos, gate = np.array(jac), np.array(cos), np.array(gate)
    labels = np.tile(labels1, len(KEYS))
    kinds_all = np.tile(kinds, len(KEYS))
    pair_idx = np.tile(np.arange(n), len(KEYS))
    print(f"{n} pairs ({labels1.sum()} duplicates) x {len(KEYS)} keys; estimator error: MinHash |J-J^| "
          f"mean {np.mean(err_j):.3f}, SimHash |cos-cos^| mean {np.mean(err_c):.3f}")
    sem = np.clip((cos - duplicates.SEM_LOW) / (duplicates.SEM_HIGH - duplicates.SEM_LOW), 0, 1)
    variants = {}
    for w in (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0):
        name = {0.0: "lexical", 1.0: "semantic"}.get(w, f"mixed w={w}")
        variants[name] = (1 - w) * jac + w * sem
        variants[name + " +place"] = variants[name] * gate
    perm = np.random.default_rng(0).permutation(n)
    for name, sc in variants.items():
        thr = best_thr(sc, labels)
        p, r, f = prf(sc >= thr, labels)
        pred = np.zeros(len(sc), bool)
        for k in range(5):
            test = np.isin(pair_idx, perm[k::5])
            pred[test] = sc[test] >= best_thr(sc[~test], labels[~test])
        cp, cr, _ = prf(pred, labels)
        by_kind = {k[:9]: f"{np.mean(sc[kinds_all == k]):.2f}" for k in sorted(set(kinds))}
        print(f"{name:22s} thr {thr:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f} | 5-fold CV P {cp:.3f} R {cr:.3f} "
              f"| mean by kind {by_kind}")
    for mode in ("combined", "lexical"):
        ps, rs = [], []
        for key in KEYS:
            os.environ["TRIAGE_FINGERPRINT_KEY"] = key
            found = []
            for p in pairs:
                kw = dict(semantic=mode == "combined")
                fa = duplicates.fingerprint(p["a"], place=p.get("place_a"),
                                            embedding=vecs[p["a"]] if mode == "combined" else None, **kw)
                fb = duplicates.fingerprint(p["b"], place=p.get("place_b"),
                                            embedding=vecs[p["b"]] if mode == "combined" else None, **kw)
                found.append(bool(duplicates.find_duplicates(fa, [("b", fb)])))
            pp, rr, _ = prf(np.array(found), labels1)
            ps.append(pp); rs.append(rr)
        thr = duplicates.THRESHOLD_COMBINED if mode == "combined" else duplicates.THRESHOLD_LEXICAL
        print(f"shipped {mode:8s} (w={duplicates.SEM_WEIGHT}, thr={thr}, place gate {duplicates.PLACE_MIN}/"
              f"{duplicates.PLACE_PENALTY}): P mean {np.mean(ps):.3f} min {np.min(ps):.3f}, "
              f"R mean {np.mean(rs):.3f} min {np.min(rs):.3f} over {len(KEYS)} keys; "
              f"fingerprint {len(fa)} B with place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
