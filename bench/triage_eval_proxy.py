"""Proxy for ``python -m triage eval``: the generic pipeline on a 7-class, ~1,400-message task.

Why: ``eval`` will be run on ~1,400 real labelled citizen messages of another domain (7 classes),
where char TF-IDF + linear SVM measured macro-F1 0.85 and frozen e5 + LR 0.82. We have no such
data here, so the proxy takes the corpus with a different label column, 7 classes, 200 messages
each (or all where fewer), and compares pipeline variants with the same stratified 5-fold protocol.

    .venv/bin/python -u bench/triage_eval_proxy.py [--label department] [--per-class 200] [--write proxy.csv]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.data import load_corpus  # noqa: E402
from triage.evaluate import EVAL_C_GRID, EVAL_CONFIG, kfold_eval  # noqa: E402

_C13 = EVAL_CONFIG.with_(char_ngram=(1, 3))
_W12C13 = EVAL_CONFIG.with_(word=True, word_ngram=(1, 2), char_ngram=(1, 3))
VARIANTS = {
    "char1-3 svm C=0.5 (baseline)": (_C13, (0.5,)),
    "char1-3 svm C tuned": (_C13, (0.1, 0.3, 1.0)),
    "word1-2+char1-3 svm C=0.5": (_W12C13, (0.5,)),
    "word1-2+char1-3 svm C tuned": (_W12C13, (0.1, 0.3, 1.0)),
    "word1-2+char2-4 svm C tuned": (_W12C13.with_(char_ngram=(2, 4)), (0.1, 0.3, 1.0)),
    "word1-2+char1-3 min_df2 C tuned": (_W12C13.with_(min_df=2), (0.1, 0.3, 1.0)),
    "char1-2 svm C tuned": (EVAL_CONFIG, (0.1, 0.3, 1.0)),
    "char1-4 svm C tuned": (EVAL_CONFIG.with_(char_ngram=(1, 4)), (0.1, 0.3, 1.0)),
    "word1 w0.5+char1-3 svm C tuned": (_C13.with_(word=True, word_ngram=(1, 1), word_weight=0.5), (0.1, 0.3, 1.0)),
    "char1-3 svm C wide grid": (_C13, (0.03, 0.1, 0.3, 1.0, 3.0)),
    "char1-3 no class_weight C tuned": (_C13.with_(class_weight=None), (0.1, 0.3, 1.0)),
    "char1-2 svm C wide grid": (EVAL_CONFIG, (0.03, 0.1, 0.3, 1.0, 3.0)),
    "word1-2+char1-2 svm C tuned": (EVAL_CONFIG.with_(word=True, word_ngram=(1, 2)), (0.1, 0.3, 1.0)),
    "char1-1 svm C tuned": (EVAL_CONFIG.with_(char_ngram=(1, 1)), (0.1, 0.3, 1.0)),
    "char1-2 svm C grid 0.1-3": (EVAL_CONFIG, EVAL_C_GRID),
}
# variants that also pick the char n-gram range by inner CV
NGRAM_VARIANTS = {"char {1-2,1-3} x C grid, inner CV": (EVAL_CONFIG, EVAL_C_GRID, ((1, 2), (1, 3)))}


def build_proxy(label: str, per_class: int, n_classes: int, seed: int = 7) -> tuple[list[str], list[str]]:
    recs = load_corpus("data")
    val = (lambda r: r.get(label) or "none")
    counts = Counter(val(r) for r in recs)
    keep = [c for c, _ in counts.most_common(n_classes)]
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for c in keep:
        rows = [r for r in recs if val(r) == c]
        rng.shuffle(rows)
        for r in rows[:per_class]:
            texts.append(r["text"])
            labels.append(c)
    return texts, labels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="department")
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--classes", type=int, default=7)
    ap.add_argument("--variants", default=None, help="comma-separated indices into VARIANTS")
    ap.add_argument("--write", default=None, help="also write the proxy as CSV (text,label)")
    ap.add_argument("--ngram-variants", action="store_true", help="also run NGRAM_VARIANTS")
    args = ap.parse_args()
    texts, labels = build_proxy(args.label, args.per_class, args.classes)
    print(f"proxy: label={args.label} n={len(texts)} classes={dict(Counter(labels))}", flush=True)
    if args.write:
        with open(args.write, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows(zip(texts, labels))
    names = list(VARIANTS)
    if args.variants:
        names = [names[int(i)] for i in args.variants.split(",")]
    for name in names:
        cfg, grid = VARIANTS[name]
        t0 = time.time()
        out = kfold_eval(texts, labels, folds=5, cfg=cfg, c_grid=grid)
        print(f"{name:45s} acc={out.accuracy:.4f} macroF1={out.macro_f1:.4f} ({time.time() - t0:.0f}s)", flush=True)
    if args.ngram_variants:
        for name, (cfg, grid, ngrams) in NGRAM_VARIANTS.items():
            t0 = time.time()
            out = kfold_eval(texts, labels, folds=5, cfg=cfg, c_grid=grid, ngram_grid=ngrams, log=sys.stderr)
            print(f"{name:45s} acc={out.accuracy:.4f} macroF1={out.macro_f1:.4f} ({time.time() - t0:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
