"""Training, saving and loading the triage models (one text pipeline per target).

Why this layout: the portal needs one immutable bundle that is loaded once per process and that
explains itself. :class:`Artifacts` holds, per target, the fitted scikit-learn pipeline, its classes,
and the linear weights + feature strings used for the "reasons" shown to staff. It is written with
joblib to ``$TRIAGE_ARTIFACTS`` (default ``<repo>/instance/triage``, gitignored; artifacts are
never committed) next to a human-readable ``meta.json``.

Determinism: texts are normalised, records sorted by id, models seeded; ``model_version`` is a hash
of the training texts, labels and configuration, so the same data gives the same version and the
same predictions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from triage.data import REPO, TARGETS, Taxonomy, label_of, load_taxonomy
from triage.features import DEFAULT_CONFIG, PipelineConfig, build_classifier, build_features, classifier_coef, feature_names
from triage.normalize import normalize

ARTIFACT_FILE = "triage.joblib"
META_FILE = "meta.json"
FORMAT_VERSION = 1

# Chosen by 5-fold CV on the corpus (bench/triage_cv.py, bench/triage_system_cv.py; numbers in
# data/README.md): char 1–2-grams + jieba word unigrams at half weight, calibrated LinearSVC C=0.5.
# Char 1–3 or word bigrams were worse (department 0.889–0.894 vs 0.901).
TRIAGE_CONFIG: PipelineConfig = DEFAULT_CONFIG.with_(
    char_ngram=(1, 2), word_ngram=(1, 1), word_weight=0.5, min_df=1, C=0.5
)
# How the department is decided: "direct" model, "sector" (sum of sector probabilities per lead
# department), or "blend" (mean of both). 5-fold CV accuracy: direct 0.880, blend 0.895,
# sector 0.901 — the sector model sees finer classes, and 三管三必须 maps them to departments.
DEPARTMENT_STRATEGY = "sector"
# Below this department probability a report goes to the coordinating office's review queue.
# 5-fold CV: 0.5 → 4.6 % reviewed, 91.9 % of the rest right; 0.6 → 14 % reviewed, 94.9 % right;
# 0.7 → 22 % reviewed, 96.6 % right. 0.6 keeps the office's load modest (env TRIAGE_REVIEW_THRESHOLD).
REVIEW_THRESHOLD = 0.6


# Terms shown as reasons: letters/digits/hanzi only, and not made only of function characters
# (那个, 人都 carry weight in the model but explain nothing to staff).
_SHOWABLE = re.compile(r"^[\w]+$")
_FUNCTION_CHARS = frozenset("的了是在有个那这我你他她它们都就也还又很太不没吗呢吧啊呀一上下里人说要会能到去来把被让给和与跟")


def artifacts_dir() -> Path:
    env = os.environ.get("TRIAGE_ARTIFACTS")
    return Path(env) if env else REPO / "instance" / "triage"


@dataclass
class TargetModel:
    """One fitted classifier (on the shared features) plus its weights for explanations."""

    target: str
    clf: Any
    classes: list[str]
    coef: np.ndarray | None
    n_train: int

    def proba(self, X: Any) -> np.ndarray:
        return self.clf.predict_proba(X)

    def explain(
        self, x: Any, names: np.ndarray, cls: str, k: int = 5, words: frozenset[str] | None = None
    ) -> list[str]:
        """Top ``k`` n-grams present in row ``x`` pushing towards ``cls`` (longest, deduplicated).

        With ``words`` (the segmenter's vocabulary), character n-grams that are not whole words
        (站卸, 的工 — fragments across a word boundary) are not shown.
        """
        if self.coef is None or cls not in self.classes:
            return []
        x = x.tocsr()
        row = self.coef[self.classes.index(cls)]
        idx = x.indices
        contrib = x.data * row[idx]
        order = np.argsort(-contrib)
        out: list[str] = []
        for j in order:
            if contrib[j] <= 0 or len(out) >= k:
                break
            term = str(names[idx[j]]).strip()
            if len(term) < 2 or not _SHOWABLE.match(term) or all(ch in _FUNCTION_CHARS for ch in term):
                continue
            if words is not None and term not in words:
                continue
            if any(term in t for t in out):
                continue
            out = [t for t in out if t not in term]
            out.append(term)
        return out[:k]


@dataclass
class Artifacts:
    """Everything :mod:`triage.routing` needs at run time.

    One feature extractor (word + char TF-IDF, fitted on all training texts) is shared by the four
    classifiers: texts are vectorised once per report, and the bundle stays small.
    """

    features: Any
    names: np.ndarray
    models: dict[str, TargetModel]
    model_version: str
    department_strategy: str = DEPARTMENT_STRATEGY
    review_threshold: float = REVIEW_THRESHOLD
    sector_department: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def transform(self, texts: list[str]) -> Any:
        return self.features.transform(texts)

    def word_vocabulary(self) -> frozenset[str] | None:
        """Words known to the word vectoriser (for readable explanations), if it has one."""
        for name, tr in getattr(self.features, "transformer_list", []):
            if name == "word" and hasattr(tr, "vocabulary_"):
                return frozenset(w.replace(" ", "") for w in tr.vocabulary_)
        return None


def prepare(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deterministic order (by id, then text) and normalised text in ``_norm``."""
    recs = sorted(records, key=lambda r: (str(r.get("id", "")), r.get("text", "")))
    return [{**r, "_norm": normalize(r.get("text", ""))} for r in recs]


def data_hash(records: list[dict[str, Any]], cfg: PipelineConfig, extra: str = "") -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(r["_norm"].encode("utf-8"))
        for t in TARGETS:
            h.update(f"|{r.get(t)}".encode("utf-8"))
        if r.get("_feedback"):  # feedback is not in the vocabulary: a different model
            h.update(b"|feedback")
        h.update(b"\n")
    h.update(json.dumps(asdict(cfg), sort_keys=True, default=str).encode())
    h.update(extra.encode())
    return h.hexdigest()[:12]


def fit_target(
    target: str, X: Any, records: list[dict[str, Any]], taxonomy: Taxonomy, cfg: PipelineConfig
) -> TargetModel | None:
    rows = [i for i, r in enumerate(records) if r["_norm"] and label_of(r, target, taxonomy) is not None]
    y = [label_of(records[i], target, taxonomy) for i in rows]
    if len(set(y)) < 2:
        return None
    clf = build_classifier(cfg, y)
    clf.fit(X[rows], y)
    return TargetModel(
        target=target,
        clf=clf,
        classes=[str(c) for c in clf.classes_],
        coef=classifier_coef(clf),
        n_train=len(rows),
    )


def train(
    records: list[dict[str, Any]],
    taxonomy: Taxonomy | None = None,
    config: PipelineConfig | None = None,
    *,
    department_strategy: str = DEPARTMENT_STRATEGY,
    review_threshold: float = REVIEW_THRESHOLD,
    log: Any = None,
) -> Artifacts:
    """Fit the shared features and all target classifiers on ``records`` (corpus ± feedback)."""
    taxonomy = taxonomy or load_taxonomy()
    cfg = config or TRIAGE_CONFIG
    recs = prepare(records)
    t0 = time.time()
    features = build_features(cfg)
    # The vocabulary and idf come from the corpus only: feedback (decrypted staff corrections) is
    # projected onto it, so no n-gram that occurs only in a real report is stored in the bundle.
    base = [r["_norm"] for r in recs if not r.get("_feedback")] or [r["_norm"] for r in recs]
    features.fit(base)
    X = features.transform([r["_norm"] for r in recs]).tocsr()
    names = feature_names(features)
    if log:
        log(f"  features     {X.shape[1]} n-grams from {X.shape[0]} texts ({time.time() - t0:.1f}s)")
    models: dict[str, TargetModel] = {}
    for target in TARGETS:
        t0 = time.time()
        m = fit_target(target, X, recs, taxonomy, cfg)
        if m is not None:
            models[target] = m
            if log:
                log(f"  {target:12s} {len(m.classes):2d} classes, {m.n_train} texts ({time.time() - t0:.1f}s)")
    version = data_hash(recs, cfg, f"{department_strategy}|{review_threshold}")
    return Artifacts(
        features=features,
        names=names,
        models=models,
        model_version=version,
        department_strategy=department_strategy,
        review_threshold=review_threshold,
        sector_department=dict(taxonomy.sector_department),
        meta={
            "n_records": len(recs),
            "n_features": int(X.shape[1]),
            "targets": {t: {"classes": m.classes, "n_train": m.n_train} for t, m in models.items()},
            "config": asdict(cfg),
        },
    )


def save(art: Artifacts, out_dir: Path | str | None = None) -> Path:
    out = Path(out_dir) if out_dir else artifacts_dir()
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (ARTIFACT_FILE + ".tmp")
    joblib.dump(art, tmp, compress=3)
    os.replace(tmp, out / ARTIFACT_FILE)
    meta = {
        "model_version": art.model_version,
        "format_version": art.format_version,
        "department_strategy": art.department_strategy,
        "review_threshold": art.review_threshold,
        **art.meta,
    }
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return out / ARTIFACT_FILE


def load(path: Path | str | None = None) -> Artifacts:
    """Load a bundle from a directory or file; raises ``FileNotFoundError`` if absent."""
    p = Path(path) if path else artifacts_dir()
    if p.is_dir():
        p = p / ARTIFACT_FILE
    art = joblib.load(p)
    if not isinstance(art, Artifacts) or art.format_version != FORMAT_VERSION:
        raise ValueError(f"{p}: not a triage artifact bundle of format {FORMAT_VERSION}")
    return art
