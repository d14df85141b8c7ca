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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
