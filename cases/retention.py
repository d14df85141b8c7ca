"""Retention and secure deletion: a closed report is purged when its retention period has passed.

Purging is crypto-shredding plus deletion: every wrapped data key of the report is deleted (for
the departments, the coordinating office and the reporter), the sealed content, identity, triage
explanation, messages, comments, notes and transfer reasons are removed, the encrypted files are
deleted from the store, the blind-index terms, the similarity fingerprint and reporter sessions go, and the receipt locator is
replaced so the receipt finds nothing. What stays is the case metadata the statistics, the hazard
ledger, the audit log and the reward accounts are built from (number, dates, department, sector,
town, status, conclusion, enforcement decisions, reward amounts) — none of it identifies the
reporter or quotes the report.

Periods are per report type, counted from the closing date, configurable with
``PORTAL_RETENTION_DAYS_<TYPE>`` (0 keeps that type for ever). The defaults are this product's
choice [I], not a statute: confirm them with the district's archive rules (docs/deploy.md).
A report whose reward is still in play (proposed, approved, claimed) is never purged.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from audit.chain import Actor, record
from models import (Attachment, CaseComment, CaseRecord, CaseTransfer, Inspection, KeyWrap, Message, Report,
                    ReportFingerprint, ReporterSession, Reward, SearchTerm)
from models.base import utcnow
from secure_store.files import FileStore

DEFAULT_DAYS: dict[str, int] = {
    "out_of_scope": 365,  # not a safety matter: one year after it was answered
    "general_hazard": 3 * 365,
    "major_hazard": 10 * 365,
    "illegal_operation": 10 * 365,
    "concealed_accident": 30 * 365,  # accident concealment: kept as long as accident files
}
UNTYPED = "general_hazard"  # reports triage could not type are kept like general hazards
REWARD_IN_PLAY = ("proposed", "head_approved", "approved", "claimed")


@dataclass(frozen=True)
class Retention:
    days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    @classmethod
    def from_env(cls) -> Retention:
        days = dict(DEFAULT_DAYS)
        for kind in DEFAULT_DAYS:
            raw = os.environ.get(f"PORTAL_RETENTION_DAYS_{kind.upper()}")
            if raw is not None:
                days[kind] = int(raw)
        return cls(days)

    def period(self, report_type: str | None) -> int:
        return self.days.get(report_type or UNTYPED, self.days[UNTYPED])


def due_for_purge(db: Session, retention: Retention, now: datetime) -> list[Report]:
    """Closed, not yet purged reports past their period, without a reward still in play."""
    in_play = select(Reward.report_id).where(Reward.status.in_(REWARD_IN_PLAY))
    rows = db.execute(select(Report, CaseRecord.closed_at).join(CaseRecord, CaseRecord.report_id == Report.id)
                      .where(Report.is_open.is_(False), Report.purged_at.is_(None), CaseRecord.closed_at.is_not(None),
                             Report.id.not_in(in_play)))
    out = []
    for report, closed_at in rows:
        days = retention.period(report.report_type)
        if days > 0 and closed_at + timedelta(days=days) <= now:
            out.append(report)
    return out


def purge(db: Session, store: FileStore, audit_key: bytes, report: Report, now: datetime | None = None) -> None:
    """Shred one report (see the module docstring). Commits; the files go after the commit, so a
    crash in between leaves only encrypted files whose keys no longer exist."""
    now = now or utcnow()
    rid = report.id
    files = list(db.scalars(select(Attachment.storage_name).where(Attachment.report_id == rid)))
    for model in (KeyWrap, Attachment, Message, CaseComment, SearchTerm, ReportFingerprint, ReporterSession):
        db.execute(delete(model).where(model.report_id == rid))  # type: ignore[attr-defined]
    db.execute(update(Inspection).where(Inspection.report_id == rid).values(sealed_note=None))
    db.execute(update(CaseTransfer).where(CaseTransfer.report_id == rid).values(sealed_reason=b""))
    db.execute(update(CaseRecord).where(CaseRecord.report_id == rid).values(sealed_summary=None))
    report.sealed_content, report.sealed_identity, report.sealed_triage = b"", None, b""
    report.receipt_locator = os.urandom(32)
    report.reporter_public_key = None
    report.purged_at = now
    record(db, audit_key, actor=Actor.system(), action="retention_purge", target_type="report", target_id=report.number,
           details={"report_type": report.report_type, "files": len(files)}, at=now)
    db.commit()
    for name in files:
        store.delete(name)


def run(db: Session, store: FileStore, audit_key: bytes, retention: Retention | None = None, now: datetime | None = None,
        dry_run: bool = False) -> Counter[str]:
    """Purge everything due; returns how many per report type (what would be purged, if dry)."""
    now = now or utcnow()
    done: Counter[str] = Counter()
    for report in due_for_purge(db, retention or Retention.from_env(), now):
        done[report.report_type or UNTYPED] += 1
        if not dry_run:
            purge(db, store, audit_key, report, now)
    return done
