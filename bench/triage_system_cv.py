"""System-level 5-fold CV of the triage bundle: department strategy, review and urgency thresholds.

Why: the decision rules in :mod:`triage.routing` (department = direct / from sector / blend, the
review threshold, the model-only critical threshold combined with cue rules) act on the *outputs*
of the four classifiers, so they are tuned on out-of-fold outputs of the whole bundle — never on
the held-out set. Run:

    .venv/bin/python -u bench/triage_system_cv.py [--data data] [--folds 5] [--min-df 2] [--save oof.joblib]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage import model  # noqa: E402
from triage.data import load_corpus, load_taxonomy  # noqa: E402
from triage.evaluate import heldout_scores  # noqa: E402
from triage.features import SEED  # noqa: E402
from triage.routing import Triager  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--min-df", type=int, default=None)
    ap.add_argument("--C", type=float, default=None)
    ap.add_argument("--save", default=None)
    ap.add_argument("--char", default=None, help="char n-gram range, e.g. 1,2")
    ap.add_argument("--word", default=None, help="word n-gram range, e.g. 1,1; 0 disables words")
    ap.add_argument("--word-weight", type=float, default=None)
    args = ap.parse_args()
    tax = load_taxonomy()
    records = model.prepare(load_corpus(args.data))
    cfg = model.TRIAGE_CONFIG
    if args.min_df is not None:
        cfg = cfg.with_(min_df=args.min_df)
    if args.C is not None:
        cfg = cfg.with_(C=args.C)
    if args.char:
        cfg = cfg.with_(char_ngram=tuple(int(x) for x in args.char.split(",")))
    if args.word == "0":
        cfg = cfg.with_(word=False)
    elif args.word:
        cfg = cfg.with_(word=True, word_ngram=tuple(int(x) for x in args.word.split(",")))
    if args.word_weight is not None:
        cfg = cfg.with_(word_weight=args.word_weight)
    print(f"corpus {len(records)} records; config {cfg}", flush=True)
    strat = [f"{r.get('sector')}|{r.get('urgency')}" for r in records]
    # rare strata fall back to sector only so StratifiedKFold accepts them
    counts: dict[str, int] = {}
    for s in strat:
        counts[s] = counts.get(s, 0) + 1
    strat = [s if counts[s] >= args.folds else s.split("|")[0] for s in strat]
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=SEED)
    results: list = [None] * len(records)
    probs: dict[str, list] = {"department": [None] * len(records), "sector": [None] * len(records),
                              "report_type": [None] * len(records), "urgency": [None] * len(records)}
    arts = []
    for f, (tr, te) in enumerate(skf.split(np.zeros(len(records)), strat)):
        t0 = time.time()
        art = model.train([records[i] for i in tr], tax, cfg)
        arts.append(art)
        tri = Triager(art, with_standards=False)
        texts = [records[i]["text"] for i in te]
        res = tri.classify_batch(texts)
        X = art.transform([records[i]["_norm"] for i in te])
        for tname, m in art.models.items():
            p = m.proba(X)
            for k, i in enumerate(te):
                probs[tname][i] = dict(zip(m.classes, p[k]))
        for k, i in enumerate(te):
            results[i] = res[k]
        print(f"fold {f + 1}: {time.time() - t0:.1f}s", flush=True)

    print(f"\n== system OOF scores (routing logic, strategy {model.DEPARTMENT_STRATEGY}) ==")
    for k, v in heldout_scores(results, records).items():
        print(f"  {k:30s} {v}")

    dep_t = [r["department"] for r in records]
    # department strategies
    for strategy in ("direct", "sector", "blend"):
        preds, confs = [], []
        for i in range(len(records)):
            direct = probs["department"][i]
            from_sec: dict[str, float] = {}
            for c, p in probs["sector"][i].items():
                d = tax.department_of(None if c == "none" else c)
                from_sec[d] = from_sec.get(d, 0.0) + p
            if strategy == "direct":
                dist = direct
            elif strategy == "sector":
                dist = from_sec
            else:
                dist = {k: (direct.get(k, 0) + from_sec.get(k, 0)) / 2 for k in set(direct) | set(from_sec)}
            best = max(dist.items(), key=lambda kv: kv[1])
            preds.append(best[0])
            confs.append(best[1])
        acc = accuracy_score(dep_t, preds)
        line = f"department {strategy:7s} acc={acc:.4f} macroF1={f1_score(dep_t, preds, average='macro'):.4f}"
        confs_a = np.asarray(confs)
        ok = np.asarray([p == t for p, t in zip(preds, dep_t)])
        for thr in (0.3, 0.4, 0.5, 0.6, 0.7):
            keep = confs_a >= thr
            line += f" | thr{thr}: review={1 - keep.mean():.3f} acc_kept={ok[keep].mean():.4f}"
        print(line)
        if strategy == "blend":
            labels = sorted(set(dep_t))
            cm = confusion_matrix(dep_t, preds, labels=labels)
            print("confusions (true -> pred: n):")
            pairs = [(cm[a, b], labels[a], labels[b]) for a in range(len(labels)) for b in range(len(labels)) if a != b and cm[a, b] >= 5]
            for n, a, b in sorted(pairs, reverse=True)[:12]:
                print(f"   {a} -> {b}: {n}")

    # urgency: model-only critical threshold sweep combined with cues
    from triage.urgency import assess  # noqa: PLC0415

    ur_t = [r["urgency"] for r in records]
    crit_t = np.asarray([u == "critical" for u in ur_t])
    for thr in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.01):
        lv = []
        for i, r in enumerate(records):
            oos = max(probs["report_type"][i].get("out_of_scope", 0.0), probs["sector"][i].get("none", 0.0))
            lv.append(assess(r["_norm"], probs["urgency"][i], oos, critical_threshold=thr).level)
        crit_p = np.asarray([x == "critical" for x in lv])
        rec = (crit_p & crit_t).sum() / crit_t.sum()
        prec = (crit_p & crit_t).sum() / max(1, crit_p.sum())
        print(f"urgency crit_thr={thr:<5} crit_recall={rec:.4f} crit_precision={prec:.4f} "
              f"macroF1={f1_score(ur_t, lv, average='macro'):.4f}")
    if args.save:
        joblib.dump({"probs": probs, "records": records}, args.save)


if __name__ == "__main__":
    main()
