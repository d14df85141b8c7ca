"""The text-classification pipeline shared by every triage model and by ``python -m triage eval``.

Why this shape (measured, see data/README.md "Triage pipeline"): short Chinese citizen messages are
classified best by a linear model over sparse n-grams. Character n-grams are robust to
segmentation errors, typos and unseen compounds; jieba word uni/bigrams (with the domain
dictionary) add whole-term evidence (加油站, 脚手架). Sublinear tf dampens repetitions ("快来人快来人").
The linear SVM is wrapped in sigmoid calibration so that its scores are probabilities we can
threshold for the review queue and marginalise (sector → department).

Everything is deterministic: LinearSVC/LogisticRegression are seeded and the CV splits fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from triage.segment import tokenize

SEED = 20261122


def identity(text: str) -> str:
    """Module-level (picklable) no-op preprocessor: texts are normalised before the pipeline."""
    return text


@dataclass(frozen=True)
class PipelineConfig:
    """Hyper-parameters of :func:`build_pipeline` (kept small and explicit for the README)."""

    word: bool = True
    word_ngram: tuple[int, int] = (1, 2)
    char: bool = True
    char_ngram: tuple[int, int] = (1, 3)
    min_df: int = 1
    max_df: float = 1.0
    sublinear_tf: bool = True
    model: str = "svm"  # "svm" (calibrated LinearSVC) or "lr" (LogisticRegression)
    C: float = 0.5
    class_weight: str | None = "balanced"
    calibration_cv: int = 5
    calibration_ensemble: bool = False
    word_weight: float = 1.0
    char_weight: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def with_(self, **kw: Any) -> "PipelineConfig":
        return replace(self, **kw)


DEFAULT_CONFIG = PipelineConfig()


def build_features(cfg: PipelineConfig) -> FeatureUnion:
    parts: list[tuple[str, Any]] = []
    weights: dict[str, float] = {}
    if cfg.word:
        parts.append(
            (
                "word",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    preprocessor=identity,
                    token_pattern=None,
                    lowercase=True,
                    ngram_range=cfg.word_ngram,
                    min_df=cfg.min_df,
                    max_df=cfg.max_df,
                    sublinear_tf=cfg.sublinear_tf,
                    dtype=np.float32,
                ),
            )
        )
        weights["word"] = cfg.word_weight
    if cfg.char:
        parts.append(
            (
                "char",
                TfidfVectorizer(
                    analyzer="char",
                    preprocessor=identity,
                    lowercase=True,
                    ngram_range=cfg.char_ngram,
                    min_df=cfg.min_df,
                    max_df=cfg.max_df,
                    sublinear_tf=cfg.sublinear_tf,
                    dtype=np.float32,
                ),
            )
        )
        weights["char"] = cfg.char_weight
    if not parts:
        raise ValueError("at least one of word/char features must be enabled")
    return FeatureUnion(parts, transformer_weights=weights)


def build_classifier(cfg: PipelineConfig, labels: Sequence[str]) -> Any:
    """Calibrated LinearSVC, or LR; falls back to LR when a class is too rare to calibrate."""
    counts = Counter(labels)
    min_count = min(counts.values()) if counts else 0
    if cfg.model == "svm" and min_count >= 2 and len(counts) >= 2:
        svc = LinearSVC(C=cfg.C, class_weight=cfg.class_weight, random_state=SEED, max_iter=5000)
        # ensemble=False: one SVM fitted on all data, sigmoid fitted on out-of-fold scores —
        # same calibration quality here, a fifth of the bundle size and prediction cost.
        return CalibratedClassifierCV(
            svc, method="sigmoid", cv=min(cfg.calibration_cv, min_count), ensemble=cfg.calibration_ensemble
        )
    return LogisticRegression(
        C=cfg.C * 20 if cfg.model == "svm" else cfg.C,
        class_weight=cfg.class_weight,
        max_iter=3000,
        random_state=SEED,
    )


def build_pipeline(cfg: PipelineConfig, labels: Sequence[str]) -> Pipeline:
    return Pipeline([("features", build_features(cfg)), ("clf", build_classifier(cfg, labels))])


def classifier_coef(clf: Any) -> np.ndarray | None:
    """Class × feature weights of a fitted linear model (averaged over calibration folds).

    Used only for explanations ("reasons"); binary models give one row, expanded to two.
    """
    rows: list[np.ndarray] = []
    if isinstance(clf, CalibratedClassifierCV):
        for cc in clf.calibrated_classifiers_:
            est = cc.estimator
            rows.append(np.asarray(est.coef_, dtype=np.float32))
        coef = np.mean(rows, axis=0)
    elif hasattr(clf, "coef_"):
        coef = np.asarray(clf.coef_, dtype=np.float32)
    else:
        return None
    if coef.shape[0] == 1 and len(clf.classes_) == 2:
        coef = np.vstack([-coef[0], coef[0]])
    return coef.astype(np.float32)


def feature_names(features: FeatureUnion) -> np.ndarray:
    """Feature strings without the ``word__``/``char__`` prefix (word bigrams joined by '')."""
    names = features.get_feature_names_out()
    out = []
    for n in names:
        kind, _, val = n.partition("__")
        out.append(val.replace(" ", "") if kind == "word" else val)
    return np.asarray(out, dtype=object)
