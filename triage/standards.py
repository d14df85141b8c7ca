"""Which 重大事故隐患 standard items a report matches, and the phrase that matched.

Why: staff must see *why* triage thinks a report may be a major hazard — the standard (name and
number), the item, its text, and the words of the report that correspond. The items live in
``data/standards/items.jsonl`` (one JSON object a line; ``wording`` says whether the text is
verbatim or reconstructed from memory, ``kind`` whether the item is decisive on its own — "direct"
— or only counts in combination — GB 35181 "composite" elements).

Method (chosen by measurement, see ``bench/standards_eval.py`` and the figures in the module
constants below): citizens write "仓库里堆了几十吨甲醇", the standards write "超量储存危险化学品", so
pure character overlap misses paraphrases and pure embeddings score everything within a narrow
band (e5 cosine ~0.78–0.92). The score mixes

* lexical: character 2–3-gram TF-IDF cosine between the report (and each of its clauses) and the
  item text, plus the share of the item's hand-written colloquial keywords found in the report;
* semantic (when the encoder is available): best e5 cosine between the report or one of its
  clauses and the item text followed by its keywords, rescaled from its narrow band to [0, 1].

A report matches an item when the mixed score clears a threshold tuned on labelled pairs that
include out-of-scope reports (wage arrears, noise, food quality), which must match nothing. When the
encoder is unavailable the lexical-only threshold applies.

Measured on 87 hand-written pairs (69 report→item, 18 must-match-nothing), 5-fold cross-validated
threshold: lexical top-1 0.83 / top-3 0.86 / out-of-scope rejected 0.89; semantic alone 0.80 /
0.93 / 1.00; combined 0.93 / 0.96 / 0.94. The pairs were written by the same engineer as the
item keywords, so real reports will score lower; re-measure on labelled real reports.
"""

from __future__ import annotations

import json
import re
import os
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from triage.normalize import normalize
from triage.result import StandardMatch

ITEMS_PATH = Path(__file__).resolve().parents[1] / "data" / "standards" / "items.jsonl"

# Tuned by bench/standards_eval.py on tests/triage/fixtures/standards_pairs.jsonl (grid search of
# weight and threshold maximising top-1 hit rate + out-of-scope rejection rate; the 5-fold CV
# figures it prints chose the same values). Re-run it after editing items or fixtures.
KEYWORD_WEIGHT = 0.5       # lexical = tfidf + KEYWORD_WEIGHT * keyword share
SEM_LOW, SEM_HIGH = 0.80, 0.92  # e5 cosine band mapped to [0, 1]
SEM_WEIGHT = 0.6           # combined = (1 - SEM_WEIGHT) * lexical + SEM_WEIGHT * semantic
THRESHOLD_COMBINED = 0.61
THRESHOLD_LEXICAL = 0.29

_CLAUSE_SPLIT = re.compile(r"[，,。．.；;！!？?、\n\r\t：:（）()“”\"'…~～\s]+")


@dataclass(frozen=True)
class StandardItem:
    """One item of an official 重大事故隐患 判定标准."""

    id: str
    sector: str
    standard: str
    standard_no: str
    item: str
    text: str
    wording: str
    source: str
    kind: str = "direct"
    category: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)

    @property
    def standard_full(self) -> str:
        return f"{self.standard}（{self.standard_no}）" if self.standard_no else self.standard


@lru_cache(maxsize=1)
def load_items(path: str | None = None) -> tuple[StandardItem, ...]:
    """All items from ``items.jsonl`` (cached)."""
    p = Path(path) if path else ITEMS_PATH
    items = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            try:
                items.append(StandardItem(
                    id=d["id"], sector=d["sector"], standard=d["standard"],
                    standard_no=d.get("standard_no", ""), item=d["item"], text=d["text"],
                    wording=d["wording"], source=d.get("source", ""), kind=d.get("kind", "direct"),
                    category=d.get("category", ""), keywords=tuple(d.get("keywords", ()))))
            except KeyError as exc:
                raise ValueError(f"{p}:{n}: missing field {exc}") from exc
    return tuple(items)


def items_by_sector() -> dict[str, list[StandardItem]]:
    """Items grouped by taxonomy sector code (training signal for the classifier)."""
    out: dict[str, list[StandardItem]] = {}
    for it in load_items():
        out.setdefault(it.sector, []).append(it)
    return out


def normalise(text: str) -> str:
    """The project's normal form (triage.normalize: NFKC, simplified script, typo corrections),
    lower-cased: the form both the report and the items are compared in."""
    return normalize(text).lower()


MAX_SEMANTIC_CLAUSES = 16
RETRY_AFTER_S = 60.0


def split_clauses(text: str) -> list[str]:
    """The report's clauses (split at punctuation), at least two characters each."""
    return [p for p in _CLAUSE_SPLIT.split(text) if len(p) >= 2]


def clauses(text: str) -> list[str]:
    """Clauses of a report plus adjacent pairs (a hazard is often told across a comma)."""
    parts = split_clauses(text)
    units = list(parts)
    for a, b in zip(parts, parts[1:]):
        units.append(a + "，" + b)
    return units or ([text] if text.strip() else [])


def item_embedding_text(it: StandardItem) -> str:
    """What is embedded for an item: its text, then its keywords in brackets."""
    return it.text + ("（" + "、".join(it.keywords) + "）" if it.keywords else "")


CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache" / "standards"


def _cached_item_embeddings(items: tuple[StandardItem, ...]) -> np.ndarray:
    """Item embeddings, reused from disk when items and encoder folder are unchanged.

    Embedding ~170 items costs seconds at every process start; the cache key covers the item
    texts and the encoder folder's config and weights (size, mtime), so edits invalidate it.
    Item text plus colloquial keywords is embedded: measured better than the bare legal text
    (bench/standards_eval.py), as reports use everyday words.
    """
    import hashlib

    from triage.encoder import embed, encoder_path

    texts = [item_embedding_text(it) for it in items]
    folder = encoder_path()
    h = hashlib.sha256("\n".join(texts).encode())
    for name in ("config.json", "model.safetensors"):
        try:
            st = (folder / name).stat()
            h.update(f"{folder}|{name}|{st.st_size}|{st.st_mtime_ns}".encode())
        except OSError:
            h.update(f"{folder}|{name}|missing".encode())
    cache_dir = Path(os.environ.get("TRIAGE_STANDARDS_CACHE", CACHE_DIR))
    path = cache_dir / f"items-{h.hexdigest()[:16]}.npy"
    try:
        emb = np.load(path)
        if emb.shape[0] == len(items):
            return emb
    except (OSError, ValueError):
        pass
    emb = embed(texts)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, emb)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only deployment just recomputes
    return emb


class _Index:
    """TF-IDF matrix over item texts, keyword lists, and (lazily) item embeddings."""

    def __init__(self, items: tuple[StandardItem, ...]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.items = items
        docs = [normalise(it.text) for it in items]
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
        self.item_mat = self.vec.fit_transform(docs)
        self.keywords = [tuple(normalise(k) for k in it.keywords) for it in items]
        self._emb: np.ndarray | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def item_embeddings(self) -> np.ndarray | None:
        """Item embeddings, or None while the encoder is unavailable (retried once a minute, so
        a folder built after start-up is picked up without a restart)."""
        if self._emb is None and not self._recently_failed():
            with self._lock:
                if self._emb is None and not self._recently_failed():
                    from triage.encoder import EncoderUnavailable

                    try:
                        self._emb = _cached_item_embeddings(self.items)
                        self._failed_at = None
                    except EncoderUnavailable:
                        self._failed_at = time.monotonic()
        return self._emb

    def _recently_failed(self) -> bool:
        return self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S


_index: _Index | None = None
_index_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _Index(load_items())
    return _index


@dataclass
class Scores:
    """Per-item score components for one report (exposed for evaluation and tests)."""

    lexical: np.ndarray          # (n_items,)
    semantic: np.ndarray | None  # (n_items,) rescaled to [0, 1], None without encoder
    combined: np.ndarray         # (n_items,)
    best_unit: list[str]         # per item, the clause that scored best
    semantic_used: bool


def score_items(text: str, *, use_semantic: bool | None = None,
                query_embedding: np.ndarray | None = None) -> Scores:
    """Score every item against ``text``.

    ``use_semantic=None`` means: if the encoder is available. ``query_embedding`` may carry the
    caller's already computed ``embed([text])[0]`` (prefix "query: ") to save one encoder pass.
    """
    idx = _get_index()
    norm = normalise(text)
    units = clauses(text) or [text]
    q = idx.vec.transform([norm] + [normalise(u) for u in units])
    tf = (q @ idx.item_mat.T).toarray()  # rows: whole text, then units
    tf_units = tf[1:]
    kw = np.array([
        min(sum(1 for k in kws if k and k in norm) / min(len(kws), 3), 1.0) if kws else 0.0
        for kws in idx.keywords])
    lexical = np.maximum(tf[0], tf_units.max(0)) + KEYWORD_WEIGHT * kw
    unit_scores = tf_units

    semantic = None
    emb = None
    if use_semantic is None and os.environ.get("TRIAGE_STANDARDS_SEMANTIC", "1") == "0":
        use_semantic = False  # operators can keep the encoder out of the request path
    if use_semantic is not False:
        emb = idx.item_embeddings()
        if emb is None and use_semantic:
            from triage.encoder import EncoderUnavailable

            raise EncoderUnavailable("semantic scoring requested but the encoder is unavailable")
    if emb is not None:
        from triage.encoder import embed

        parts = split_clauses(text)[:MAX_SEMANTIC_CLAUSES]
        to_embed = ([] if query_embedding is not None else [text]) + parts
        e = embed(to_embed) if to_embed else np.zeros((0, emb.shape[1]), np.float32)
        if query_embedding is not None:
            e = np.vstack([np.asarray(query_embedding, dtype=np.float32)[None, :], e])
        sims = np.clip((e @ emb.T - SEM_LOW) / (SEM_HIGH - SEM_LOW), 0.0, 1.0)
        semantic = sims.max(0)
        combined = (1 - SEM_WEIGHT) * lexical + SEM_WEIGHT * semantic
        # per-unit semantic: a clause's own score, a clause pair's the better of its two
        part_sem = {p: sims[1 + i] for i, p in enumerate(parts)}
        zero = np.zeros(len(idx.items))
        unit_sem = []
        for u in units:
            if u in part_sem:
                unit_sem.append(part_sem[u])
            else:
                a, _, b = u.partition("，")
                unit_sem.append(np.maximum(part_sem.get(a, zero), part_sem.get(b, zero)))
        unit_scores = (1 - SEM_WEIGHT) * tf_units + SEM_WEIGHT * np.array(unit_sem)
    else:
        combined = lexical
    best = unit_scores.argmax(0)
    best_unit = [units[i] for i in best]
    return Scores(lexical, semantic, combined, best_unit, semantic is not None)


def match(text: str, top_k: int = 3, min_score: float | None = None, *,
          sectors: Iterable[str] | None = None, use_semantic: bool | None = None,
          query_embedding: np.ndarray | None = None) -> list[StandardMatch]:
    """Standard items ``text`` appears to match, best first; empty when nothing clears the bar.

    ``min_score`` overrides the tuned threshold (which differs with and without the encoder).
    ``sectors`` restricts the candidates to those taxonomy sector codes (e.g. the classifier's
    top sectors). Scores are comparable within one mode only (lexical-only vs combined).
    """
    if not text or not text.strip():
        return []
    s = score_items(text, use_semantic=use_semantic, query_embedding=query_embedding)
    idx = _get_index()
    thr = min_score if min_score is not None else (
        THRESHOLD_COMBINED if s.semantic_used else THRESHOLD_LEXICAL)
    allowed = set(sectors) if sectors is not None else None
    order = np.argsort(-s.combined)
    out: list[StandardMatch] = []
    for i in order:
        sc = float(s.combined[i])
        if sc < thr or len(out) >= top_k:
            break
        it = idx.items[i]
        if allowed is not None and it.sector not in allowed:
            continue
        out.append(StandardMatch(sector=it.sector, standard=it.standard_full, item=it.item,
                                 text=it.text, matched_text=s.best_unit[i], score=round(sc, 4),
                                 item_id=it.id, kind=it.kind, wording=it.wording))
    return out
