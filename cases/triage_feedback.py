"""Staff corrections of triage, read from the case records as labelled training feedback.

Why here (cases, not portal): it is a reading of case outcomes with the coordinating office's key,
run from the command line (``python -m portal triage-feedback``), never from a request. The
coordinating office holds a wrap of every report's epoch-0 content key (it keeps its wraps through
every 移送/退回), so its private key — unlocked from the offline recovery key — opens every report
description. The plaintext stays in memory: the caller seals the records into an encrypted feedback
file (:func:`triage.feedback.seal`) or trains on them directly.

What counts as a correction (the case states are the staff's decision, ``cases.states``):
- accepted (status past ``received``, not ``not_accepted``/``merged``) by a department other than
  the one triage chose (``report.triage_department``), the coordinating office excluded;
- accepted while triage called it out of scope (a safety matter after all), even by 应急管理局;
- not accepted as "不属于安全生产事项" (``not_safety``) while triage had routed it to a sector:
  an out-of-scope example.
Reports still waiting (``received``) are not corrections yet: a transfer may still follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models import Department, Report
from models.department import COORDINATION_CODE
from secure_store import envelope, report_keys
from triage.data import Taxonomy, load_taxonomy
from triage.feedback import correction_record

ACCEPTED_STATES = frozenset({"accepted", "checking", "checked", "rectifying", "signed_off", "rechecking", "closed"})


@dataclass(frozen=True)
class FeedbackSummary:
    """Counts for the operator (no content): how many corrections of which kind were read."""

    scanned: int
    department: int
    out_of_scope: int
    in_scope: int
    unreadable: int


def _corrections(db: Session) -> Iterator[tuple[Report, str]]:
    """(report, kind) for every correction; kind is ``department``, ``in_scope`` or ``out_of_scope``."""
    # SQL keeps only candidates (a million-report instance has few corrections); Python decides.
    candidate = or_(Report.status == "not_accepted", Report.triage_department.is_(None),
                    Report.report_type == "out_of_scope", Department.code != Report.triage_department)
    q = (select(Report).join(Department, Report.department_id == Department.id)
         .options(selectinload(Report.wraps), selectinload(Report.case), selectinload(Report.department))
         .where(Report.status.in_(ACCEPTED_STATES | {"not_accepted"}), candidate)
         .order_by(Report.id).execution_options(yield_per=500))
    for report in db.scalars(q):
        final = report.department.code
        if report.status == "not_accepted":
            if report.case is not None and report.case.not_accepted_reason == "not_safety" and report.sector is not None:
                yield report, "out_of_scope"
            continue
        if final == COORDINATION_CODE:
            continue
        if report.report_type == "out_of_scope":
            yield report, "in_scope"
        elif final != report.triage_department:
            yield report, "department"


def collect(db: Session, coordination_private: X25519PrivateKey, *, taxonomy: Taxonomy | None = None,
            sector_scores: Callable[[str], dict[str, float]] | None = None) -> tuple[list[dict[str, Any]], FeedbackSummary]:
    """Decrypt the corrected reports' descriptions and label them (records in ``triage`` format).

    ``sector_scores`` (``triage.feedback.sector_scorer(artifacts)``) picks the sector inside a
    department that owns several. Ids are ``fb-<report number>``: a re-export replaces, never
    duplicates, and the order is deterministic."""
    taxonomy = taxonomy or load_taxonomy()
    coordination = db.scalar(select(Department).where(Department.code == COORDINATION_CODE))
    if coordination is None:
        raise LookupError("no coordinating office in this instance")
    out: list[dict[str, Any]] = []
    counts = {"department": 0, "out_of_scope": 0, "in_scope": 0}
    scanned = unreadable = 0
    for report, kind in _corrections(db):
        scanned += 1
        try:
            keys = report_keys.department_keys(report, coordination.id, coordination_private)
            content = envelope.open_json(keys.for_epoch(0), report.sealed_content,
                                         report_keys.seal_ctx(report.number, "content"))["content"]
        except (envelope.DecryptionError, KeyError):
            unreadable += 1
            continue
        text = str(content.get("description") or "")
        rec = correction_record(
            f"fb-{report.number}", text, final_department=report.department.code,
            triage_sector=None if kind == "in_scope" else report.sector, taxonomy=taxonomy,
            out_of_scope=kind == "out_of_scope", sector_scores=sector_scores,
        )
        if rec is None:
            continue
        out.append(rec)
        counts[kind] += 1
    out.sort(key=lambda r: r["id"])
    return out, FeedbackSummary(scanned, counts["department"], counts["out_of_scope"], counts["in_scope"], unreadable)
