"""Model-selection experiments for the triage classifiers (5-fold stratified CV on the corpus).

Why a script: the choices written up in data/README.md ("Triage pipeline") — features, model, C,
department derived from sector vs predicted directly, urgency thresholds — were made with these
numbers, never with the held-out set. Run:

    .venv/bin/python bench/triage_cv.py [--data data] [--targets department,sector] [--quick]

Prints one line per (target, config) with accuracy and macro-F1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from triage.data import TARGETS, load_corpus, load_taxonomy, label_of  # noqa: E402
from triage.features import DEFAULT_CONFIG, SEED, PipelineConfig, build_pipeline  # noqa: E402
from triage.normalize import normalize  # noqa: E402


def cv_proba(texts: list[str], y: list[str], cfg: PipelineConfig, folds: int = 5) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold class probabilities (rows aligned with ``texts``)."""
    classes = sorted(set(y))
    proba = np.zeros((len(texts), len(classes)), dtype=np.float64)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    ya = np.asarray(y)
    ta = np.asarray(texts, dtype=object)
    for tr, te in skf.split(ta, ya):
        pipe = build_pipeline(cfg, list(ya[tr]))
        pipe.fit(list(ta[tr]), ya[tr])
        p = pipe.predict_proba(list(ta[te]))
        for j, c in enumerate(pipe.classes_):
            proba[te, classes.index(c)] = p[:, j]
    return proba, classes


CONFIGS: dict[str, PipelineConfig] = {
    "char13_svm": DEFAULT_CONFIG.with_(word=False),
    "word12_svm": DEFAULT_CONFIG.with_(char=False),
    "w12+c13_svm_C0.5": DEFAULT_CONFIG,
    "w12+c13_svm_C0.2": DEFAULT_CONFIG.with_(C=0.2),
    "w12+c13_svm_C1": DEFAULT_CONFIG.with_(C=1.0),
    "w12+c24_svm": DEFAULT_CONFIG.with_(char_ngram=(2, 4)),
    "w12+c13_lr_C20": DEFAULT_CONFIG.with_(model="lr", C=20.0),
    "w12+c13_mindf2": DEFAULT_CONFIG.with_(min_df=2),
    "w12+c13_mindf2_C1": DEFAULT_CONFIG.with_(min_df=2, C=1.0),
    "w1+c13_mindf2": DEFAULT_CONFIG.with_(min_df=2, word_ngram=(1, 1)),
    "w12+c14_mindf2": DEFAULT_CONFIG.with_(min_df=2, char_ngram=(1, 4)),
    "c13_mindf2": DEFAULT_CONFIG.with_(min_df=2, word=False),
    "c12_svm": DEFAULT_CONFIG.with_(word=False, char_ngram=(1, 2)),
    "c12_svm_C1": DEFAULT_CONFIG.with_(word=False, char_ngram=(1, 2), C=1.0),
    "w12+c12_mindf2": DEFAULT_CONFIG.with_(min_df=2, char_ngram=(1, 2)),
    "w1+c12": DEFAULT_CONFIG.with_(word_ngram=(1, 1), char_ngram=(1, 2)),
    "final": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5),
    "final_C1": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5, C=1.0),
    "final_C0.25": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5, C=0.25),
    "final_C2": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5, C=2.0),
    "final_c13_md3": DEFAULT_CONFIG.with_(char_ngram=(1, 3), word_ngram=(1, 1), word_weight=0.5, min_df=3),
    "final_w1.0": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=1.0),
    "final_nobal": DEFAULT_CONFIG.with_(char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5, class_weight=None),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--configs", default=",".join(CONFIGS))
    args = ap.parse_args()
    tax = load_taxonomy()
    records = load_corpus(args.data)
    texts_all = [normalize(r["text"]) for r in records]
    print(f"corpus: {len(records)} records")
    for target in args.targets.split(","):
        idx = [i for i, r in enumerate(records) if label_of(r, target, tax) is not None]
        texts = [texts_all[i] for i in idx]
        y = [label_of(records[i], target, tax) for i in idx]
        for name in args.configs.split(","):
            t0 = time.time()
            proba, classes = cv_proba(texts, y, CONFIGS[name])
            pred = [classes[k] for k in proba.argmax(1)]
            line = (
                f"{target:12s} {name:22s} acc={accuracy_score(y, pred):.4f} "
                f"macroF1={f1_score(y, pred, average='macro'):.4f}"
            )
            if target == "sector":
                # department derived from sector (marginalised probabilities)
                dep_true = [label_of(records[i], "department", tax) for i in idx]
                deps = sorted(set(tax.department_of(c) for c in classes))
                dp = np.zeros((len(texts), len(deps)))
                for j, c in enumerate(classes):
                    dp[:, deps.index(tax.department_of(c))] += proba[:, j]
                dpred = [deps[k] for k in dp.argmax(1)]
                line += f" | dept-from-sector acc={accuracy_score(dep_true, dpred):.4f}"
            if target == "urgency":
                crit = [c == "critical" for c in y]
                ci = classes.index("critical")
                for thr in (0.2, 0.3, 0.5):
                    hit = sum(1 for k, t in enumerate(crit) if t and proba[k, ci] >= thr)
                    line += f" crit_rec@{thr}={hit / max(1, sum(crit)):.3f}"
            print(line + f" ({time.time() - t0:.1f}s)", flush=True)


if __name__ == "__main__":
    main()
