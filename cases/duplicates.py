"""Likely duplicates of a report, for the case page (and the merge that only the first accepted
report of a matter may earn a reward from).

At filing, the intake stores a keyed similarity fingerprint of the text (triage.duplicates) made
from the plaintext in memory; the key is derived from the instance secrets, so it sits with them
and never in the database. Here a case's fingerprint is compared with those of the reports filed
within ``WINDOW`` days either side that the member may see (the same SQL scope as the queue), so
nothing is decrypted to find them and no one learns of a report outside their remit. The lexical
fingerprint (no encoder at intake: it would add ~140 ms per report) flags near-verbatim
resubmissions and shared wording; paraphrases of one hazard are left to staff (data/README.md).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.desk import Desk, visible_clause
from models import Report, ReportFingerprint

WINDOW = timedelta(days=180)
MAX_CANDIDATES = 5000
SHOWN = 5


def fingerprint_key(mac_key: bytes) -> bytes:
    """The instance's fingerprint key (separate from every other use of the MAC key)."""
    return hmac.new(mac_key, b"aqjb triage duplicate fingerprint v1", hashlib.sha256).digest()


def make(text: str, mac_key: bytes) -> bytes:
    from triage.duplicates import fingerprint

    return fingerprint(text, semantic=False, key=fingerprint_key(mac_key))


@dataclass(frozen=True)
class Likely:
    number: str
    filed_at: datetime
    status: str
    department: str
    score: float


def likely(desk: Desk, report: Report) -> list[Likely]:
    """The best-scoring visible reports near this one in time (best first, at most ``SHOWN``)."""
    from triage.duplicates import find_duplicates

    db: Session = desk.db
    own = db.get(ReportFingerprint, report.id)
    if own is None:
        return []
    rows = db.execute(select(Report.number, ReportFingerprint.fingerprint)
                      .join(ReportFingerprint, ReportFingerprint.report_id == Report.id)
                      .where(Report.id != report.id, Report.filed_at >= report.filed_at - WINDOW,
                             Report.filed_at <= report.filed_at + WINDOW, Report.purged_at.is_(None),
                             visible_clause(desk.staff))
                      .order_by(Report.filed_at.desc()).limit(MAX_CANDIDATES)).all()
    found = find_duplicates(own.fingerprint, ((n, bytes(fp)) for n, fp in rows))[:SHOWN]
    if not found:
        return []
    scores = dict(found)
    meta = {r.number: r for r in db.scalars(select(Report).where(Report.number.in_(scores)))}
    return [Likely(n, meta[n].filed_at, meta[n].status, meta[n].department.name, s) for n, s in found]
