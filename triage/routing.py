"""The one function the intake calls: :func:`route` (and its alias :func:`classify`).

Why this design:
- Speed: the artifact bundle is loaded once per process, lazily, under a lock, and shared by all
  threads (scikit-learn prediction is read-only). A single report costs a few milliseconds.
- Never raising: the portal calls this inside the submission request. Any failure (no artifacts,
  a corrupt bundle, a bug) yields ``needs_review=True`` with a reason, so the report still reaches
  the coordinating office (区安委会办公室) — the documented interim behaviour. The urgency cue
  rules and town/enterprise extraction need no artifacts and still run in that case, so a
  "正在泄漏" report is flagged critical even without a model.
- Review queue: if the department probability is below ``review_threshold`` (tuned on CV,
  default :data:`triage.model.REVIEW_THRESHOLD`, env ``TRIAGE_REVIEW_THRESHOLD``), the report is
  marked ``needs_review`` and the portal sends it to the coordinating office only.
- ``sector_hint`` comes from the reporter and is never used for routing (it could be chosen to
  steer a report away from a department); only shown to staff.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from secure_store.logsafe import failure_summary
from triage.data import COORDINATING_DEPARTMENT, NO_SECTOR
from triage.extract import find_enterprise, find_town, town_by_name_or_code
from triage.normalize import normalize
from triage.result import StandardMatch, TriageResult
from triage.urgency import assess

if TYPE_CHECKING:  # the model stack (scikit-learn, jieba) is imported lazily, on first use
    from triage.model import Artifacts

log = logging.getLogger(__name__)

REVIEW_REASON = "置信度不足：转区安委会办公室人工分派"
NO_MODEL_REASON = "分诊模型未启用：由区安委会办公室人工分派"
MAX_TEXT_CHARS = 5000  # longer reports are truncated for the models (rules see the same prefix)
N_ALTERNATIVES = 3
N_FEATURE_REASONS = 5
N_STANDARD_SECTORS = 3
OUT_OF_SCOPE_THRESHOLD = 0.5  # standards are searched within the classifier's top sectors
# Standard items are not searched when P(out of scope) reaches this, even below the out-of-scope
# decision: the lexical matcher cannot tell "燃气费涨价了" from a gas hazard (alone it matches 23 %
# of the corpus's out-of-scope texts). Out-of-fold on the 4,165-report corpus
# (bench/triage_standards_fp.py): out-of-scope reports with a match 1.3 % → 0.9 %, major hazards
# with a match 0.652 → 0.646 (0.2: 0.4 % / 0.642).
STANDARDS_OOS_SKIP = 0.3
_RETRY_SECONDS = 30.0


def standards_mode() -> str:
    """``TRIAGE_STANDARDS``: ``lexical`` (default, also ``1``), ``semantic`` or ``0``/``off``.

    Default lexical: the matcher's semantic part runs the transformer over every clause, measured
    at p50 ≈140 ms / p95 ≈410 ms per report on this 2-core machine (bench/triage_latency.py) — far
    over the 30 ms request budget; lexical matching adds ≈2–5 ms. ``semantic`` is for offline use.
    """
    v = os.environ.get("TRIAGE_STANDARDS", "lexical").strip().lower()
    if v in ("0", "off", "false", "no"):
        return "off"
    return "semantic" if v in ("semantic", "auto") else "lexical"


def _standards_match(text: str, sectors: list[str] | None = None) -> list[StandardMatch]:
    """triage.standards.match if that module is installed, restricted to the likely sectors.

    Restricting to the classifier's top sectors removes cross-sector false matches (a 消防 item for
    a 燃气 report). Never raises.
    """
    mode = standards_mode()
    if mode == "off":
        return []
    try:
        from triage import standards  # noqa: PLC0415 - optional sibling module
    except Exception:  # noqa: BLE001 - absent or broken: no matches
        return []
    kw: dict[str, Any] = {"use_semantic": None if mode == "semantic" else False}
    if sectors:
        kw["sectors"] = sectors
    try:
        try:
            return list(standards.match(text, top_k=3, **kw))
        except TypeError:  # an older matcher without these keywords
            return list(standards.match(text, top_k=3))
    except Exception as exc:  # noqa: BLE001
        log.warning("standards.match failed: %s", failure_summary(exc))
        return []


class Triager:
    """Loaded artifacts plus the decision logic; one instance serves all threads."""

    def __init__(
        self, artifacts: "Artifacts", *, review_threshold: float | None = None, with_standards: bool = True
    ) -> None:
        self.art = artifacts
        # Scoring runs (held-out, CV) switch the standards matcher off: it does not affect routing.
        self.with_standards = with_standards
        self._words = artifacts.word_vocabulary() if hasattr(artifacts, "word_vocabulary") else None
        self.review_threshold = artifacts.review_threshold
        env = os.environ.get("TRIAGE_REVIEW_THRESHOLD")
        if review_threshold is not None:
            self.review_threshold = review_threshold
        elif env:
            try:
                self.review_threshold = float(env)
            except ValueError:
                log.warning("TRIAGE_REVIEW_THRESHOLD=%r is not a number; using %s", env, self.review_threshold)
        # Sector ownership is administrator-editable (taxonomy.json): route by the *current*
        # taxonomy, so a changed owner (e.g. 燃气 → 城管) takes effect without retraining.
        self.sector_department = dict(artifacts.sector_department)
        try:
            from triage.data import load_taxonomy  # noqa: PLC0415

            self.sector_department.update(load_taxonomy().sector_department)
        except Exception as exc:  # noqa: BLE001 - keep the mapping the bundle was trained with
            log.warning("taxonomy unavailable (%s); using the bundle's sector ownership", exc)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "Triager":
        from triage.model import load  # noqa: PLC0415

        return cls(load(path))

    @property
    def model_version(self) -> str:
        return self.art.model_version

    # ----------------------------------------------------------------- probabilities
    def _proba(self, target: str, X: Any) -> tuple[list[str], np.ndarray] | None:
        m = self.art.models.get(target)
        if m is None:
            return None
        return m.classes, m.proba(X)

    def _department_dist(
        self, dep: tuple[list[str], np.ndarray] | None, sec: tuple[list[str], np.ndarray] | None, i: int
    ) -> dict[str, float]:
        direct: dict[str, float] = {}
        if dep is not None:
            direct = {c: float(p) for c, p in zip(dep[0], dep[1][i])}
        from_sector: dict[str, float] = {}
        if sec is not None:
            for c, p in zip(sec[0], sec[1][i]):
                d = self.sector_department.get(c, COORDINATING_DEPARTMENT) if c != NO_SECTOR else COORDINATING_DEPARTMENT
                from_sector[d] = from_sector.get(d, 0.0) + float(p)
        strategy = self.art.department_strategy
        if strategy == "direct" and direct:
            return direct
        if strategy == "sector" and from_sector:
            return from_sector
        if direct and from_sector:
            keys = set(direct) | set(from_sector)
            return {k: (direct.get(k, 0.0) + from_sector.get(k, 0.0)) / 2 for k in keys}
        return direct or from_sector

    # ----------------------------------------------------------------- decisions
    def classify_batch(
        self,
        texts: Sequence[str],
        *,
        towns: Sequence[str | None] | None = None,
        enterprises: Sequence[str | None] | None = None,
    ) -> list[TriageResult]:
        norm = [normalize(t)[:MAX_TEXT_CHARS] for t in texts]
        X = self.art.transform(norm).tocsr()
        # the direct department model is only consulted when the strategy needs it
        dep = None if self.art.department_strategy == "sector" and "sector" in self.art.models else self._proba("department", X)
        sec = self._proba("sector", X)
        rt = self._proba("report_type", X)
        urg = self._proba("urgency", X)
        out: list[TriageResult] = []
        for i, text in enumerate(norm):
            out.append(
                self._decide(
                    text, X[i], i, dep, sec, rt, urg,
                    town=towns[i] if towns else None,
                    enterprise=enterprises[i] if enterprises else None,
                )
            )
        return out

    def classify(self, text: str, *, town: str | None = None, enterprise: str | None = None) -> TriageResult:
        return self.classify_batch([text], towns=[town], enterprises=[enterprise])[0]

    def _decide(
        self,
        text: str,
        x: Any,
        i: int,
        dep: tuple[list[str], np.ndarray] | None,
        sec: tuple[list[str], np.ndarray] | None,
        rt: tuple[list[str], np.ndarray] | None,
        urg: tuple[list[str], np.ndarray] | None,
        *,
        town: str | None,
        enterprise: str | None,
    ) -> TriageResult:
        reasons: list[str] = []
        dist = self._department_dist(dep, sec, i)
        ranked = sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))
        department, confidence = ranked[0] if ranked else (COORDINATING_DEPARTMENT, 0.0)
        alternatives = [(d, round(p, 4)) for d, p in ranked[1 : 1 + N_ALTERNATIVES] if p >= 0.01]

        # out of scope: either model may say so (report_type "out_of_scope", sector "none");
        # max of the two ≥ OUT_OF_SCOPE_THRESHOLD measured best on CV (F1 0.893 vs 0.871 argmax).
        oos_prob = 0.0
        if rt is not None and "out_of_scope" in rt[0]:
            oos_prob = float(rt[1][i][rt[0].index("out_of_scope")])
        if sec is not None and NO_SECTOR in sec[0]:
            oos_prob = max(oos_prob, float(sec[1][i][sec[0].index(NO_SECTOR)]))
        is_oos = oos_prob >= OUT_OF_SCOPE_THRESHOLD
        report_type: str | None = None
        if is_oos:
            report_type = "out_of_scope"
        elif rt is not None:
            order_rt = [rt[0][j] for j in np.argsort(-rt[1][i]) if rt[0][j] != "out_of_scope"]
            report_type = order_rt[0] if order_rt else None
        if is_oos and department != COORDINATING_DEPARTMENT:
            # not a safety matter: the coordinating office answers with a referral
            alternatives = [(department, round(float(confidence), 4))] + [
                a for a in alternatives if a[0] != COORDINATING_DEPARTMENT
            ][: N_ALTERNATIVES - 1]
            department, confidence = COORDINATING_DEPARTMENT, max(oos_prob, dist.get(COORDINATING_DEPARTMENT, 0.0))

        # sector: best sector whose lead department is the chosen department
        sector: str | None = None
        sector_model_cls: str | None = None
        if sec is not None:
            order = np.argsort(-sec[1][i])
            for j in order:
                c = sec[0][j]
                d = self.sector_department.get(c) if c != NO_SECTOR else COORDINATING_DEPARTMENT
                if d == department and (c != NO_SECTOR or is_oos):
                    sector_model_cls = c
                    break
            if sector_model_cls is None:
                sector_model_cls = sec[0][int(order[0])]
            sector = None if sector_model_cls == NO_SECTOR else sector_model_cls
        if is_oos:
            sector = None

        # urgency
        urg_proba = None
        if urg is not None:
            urg_proba = {c: float(p) for c, p in zip(urg[0], urg[1][i])}
        ua = assess(text, urg_proba, oos_prob)
        reasons.extend(ua.reasons)

        # features that drove the routing decision
        explain_model = None
        explain_cls = None
        if sec is not None and self.art.department_strategy in ("sector", "blend") and sector_model_cls:
            explain_model, explain_cls = self.art.models["sector"], sector_model_cls
        elif dep is not None:
            explain_model, explain_cls = self.art.models["department"], department
        if explain_model is not None and explain_cls is not None:
            try:
                for term in explain_model.explain(x, self.art.names, explain_cls, N_FEATURE_REASONS, self._words):
                    reasons.append(f"关键词：{term}")
            except Exception as exc:  # noqa: BLE001 - explanations are best effort
                log.warning("explain failed: %s", failure_summary(exc))

        matches: list[StandardMatch] = []
        if self.with_standards and report_type != "out_of_scope" and oos_prob < STANDARDS_OOS_SKIP:
            likely = None
            if sec is not None:
                likely = [sec[0][j] for j in np.argsort(-sec[1][i])[:N_STANDARD_SECTORS] if sec[0][j] != NO_SECTOR]
            matches = _standards_match(text, likely)
        for m in matches[:2]:
            reasons.append(f"判定标准：{m.standard} {m.item}".strip())

        needs_review = confidence < self.review_threshold
        if needs_review:
            reasons.append(REVIEW_REASON)

        town_name, town_code = _resolve_town(text, town)
        return TriageResult(
            department=department,
            confidence=round(float(confidence), 4),
            needs_review=needs_review,
            alternatives=alternatives,
            sector=sector,
            report_type=report_type,
            urgency=ua.level,
            urgency_score=ua.score,
            reasons=reasons,
            standard_matches=matches,
            town=town_name,
            enterprise=enterprise or find_enterprise(text),
            model_version=self.art.model_version,
            town_code=town_code,
        )


def _resolve_town(text: str, given: str | None) -> tuple[str | None, str | None]:
    """Town given by the portal wins (name or code); else the first town named in the text."""
    if given:
        t = town_by_name_or_code(given)
        return (t.name, t.code) if t else (given, None)
    t = find_town(text)
    return (t.name, t.code) if t else (None, None)


# --------------------------------------------------------------------- process-wide instance
_lock = threading.Lock()
_triager: Triager | None = None
_load_error: str | None = None
_last_attempt = 0.0


def get_triager() -> Triager | None:
    """The cached :class:`Triager`, loading artifacts on first use (retried every 30 s if absent)."""
    global _triager, _load_error, _last_attempt
    if _triager is not None:
        return _triager
    now = time.monotonic()
    if _load_error is not None and now - _last_attempt < _RETRY_SECONDS:
        return None
    with _lock:
        if _triager is not None:
            return _triager
        _last_attempt = time.monotonic()
        try:
            from triage.model import artifacts_dir  # noqa: PLC0415

            _triager = Triager.load(artifacts_dir())
            _load_error = None
        except Exception as exc:  # noqa: BLE001 - missing/corrupt artifacts: fall back
            _load_error = f"{type(exc).__name__}: {exc}"
            log.warning("triage artifacts unavailable (%s): reports go to review", _load_error)
            return None
    return _triager


def reset(triager: Triager | None = None) -> None:
    """Drop (or replace) the cached instance, e.g. after retraining or in tests."""
    global _triager, _load_error, _last_attempt
    with _lock:
        _triager = triager
        _load_error = None
        _last_attempt = 0.0


def _fallback(text: Any, town: str | None, enterprise: str | None, why: str) -> TriageResult:
    """Review-queue result; still applies the artifact-free rules, guarded against any error."""
    reasons = [why]
    level, score = "medium", 50
    town_name = town_code = None
    ent = enterprise
    try:
        norm = normalize(text if isinstance(text, str) else ("" if text is None else str(text)))
        ua = assess(norm[:MAX_TEXT_CHARS])
        level, score = ua.level, ua.score
        reasons = ua.reasons + reasons
        town_name, town_code = _resolve_town(norm, town)
        ent = enterprise or find_enterprise(norm)
    except Exception as exc:  # noqa: BLE001
        log.error("fallback rules failed: %s", failure_summary(exc))
        town_name = town
    return TriageResult(
        department=None,
        confidence=0.0,
        needs_review=True,
        urgency=level,
        urgency_score=score,
        reasons=reasons,
        town=town_name,
        enterprise=ent,
        town_code=town_code,
    )


def route(
    text: str,
    *,
    town: str | None = None,
    enterprise: str | None = None,
    sector_hint: str | None = None,
) -> TriageResult:
    """Decide on the server where a report goes. ``sector_hint`` comes from the reporter and is
    never trusted for routing; it may only be shown to staff. Never raises.
    """
    del sector_hint  # deliberately unused for routing
    try:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text.strip():
            return _fallback(text, town, enterprise, "举报内容为空：由区安委会办公室人工处理")
        tri = get_triager()
        if tri is None:
            return _fallback(text, town, enterprise, NO_MODEL_REASON)
        return tri.classify(text, town=town, enterprise=enterprise)
    except Exception as exc:  # noqa: BLE001 - never fail the submission
        log.error("triage failed: %s", failure_summary(exc))
        return _fallback(text, town, enterprise, f"分诊出错（{type(exc).__name__}）：由区安委会办公室人工分派")


def classify(text: str) -> TriageResult:
    """Same as :func:`route` without portal-supplied fields."""
    return route(text)
