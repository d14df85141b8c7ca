"""The value triage hands back for one report: what the portal stores and what staff are shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class StandardMatch:
    """One 重大事故隐患 standard item a report appears to match, with the phrase that matched."""

    sector: str
    standard: str
    item: str
    text: str
    matched_text: str
    score: float
    # Added by triage.standards (defaults keep older constructors valid): the item's id in
    # data/standards/items.jsonl, "direct" or "composite" (GB 35181 elements that only count in
    # combination), and "verbatim"/"paraphrase" for how the item text was sourced.
    item_id: str = ""
    kind: str = "direct"
    wording: str = "verbatim"


@dataclass(frozen=True)
class TriageResult:
    """Routing decision and explanation for one report.

    ``department`` is a taxonomy department code. ``needs_review`` is True when the model is not
    confident enough (or not available): the portal then routes to the coordinating office's review
    queue only. Everything here except ``reasons``, ``standard_matches``, ``town`` and
    ``enterprise`` is coarse metadata; those four quote the report and are stored encrypted.
    """

    department: str | None
    confidence: float
    needs_review: bool
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    sector: str | None = None
    report_type: str | None = None
    urgency: str = "medium"
    urgency_score: int = 50
    reasons: list[str] = field(default_factory=list)
    standard_matches: list[StandardMatch] = field(default_factory=list)
    town: str | None = None
    enterprise: str | None = None
    duplicates: list[tuple[str, float]] = field(default_factory=list)
    model_version: str = "none"
    # Code from data/towns.json of ``town`` when it is one of the district's towns (else None).
    town_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
