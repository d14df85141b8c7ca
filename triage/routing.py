"""The one function the intake calls. Until trained artifacts exist, everything goes to review."""

from __future__ import annotations

from triage.result import TriageResult


def route(
    text: str,
    *,
    town: str | None = None,
    enterprise: str | None = None,
    sector_hint: str | None = None,
) -> TriageResult:
    """Decide on the server where a report goes. ``sector_hint`` comes from the reporter and is
    never trusted for routing; it may only be shown to staff.

    No model is wired in yet, so every report goes to the coordinating office for manual
    dispatch (the documented interim behaviour of the intake issue).
    """
    return TriageResult(
        department=None,
        confidence=0.0,
        needs_review=True,
        town=town,
        enterprise=enterprise,
        reasons=["分诊模型未启用：由区安委会办公室人工分派"],
    )
