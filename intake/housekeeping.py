"""Removing what expires: abandoned upload spools, spent proof-of-work records, reporter sessions,
and orphan encrypted files (a worker killed between staging a file and committing its report
leaves one in the store; no row references it and its key died with the transaction).

Run by ``python -m portal cleanup`` and, opportunistically, by each web worker at most every
``INTERVAL_S`` seconds, so a deployment without a cron job does not accumulate them.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.pow import purge_spent
from models import ReporterSession
from secure_store.files import FileStore

INTERVAL_S = 600
SPOOL_MAX_AGE_S = 6 * 3600  # a reporter may leave a failed form open for hours before fixing it


ORPHAN_MIN_AGE_S = 3600  # far longer than any transaction: a file this old without a row is an orphan


def sweep_orphans(db: Session, store: FileStore, min_age_s: float = ORPHAN_MIN_AGE_S) -> int:
    """Delete stored files that no attachment row references (checked in batches)."""
    from models import Attachment

    removed = 0
    batch: list[str] = []

    def flush() -> int:
        known = set(db.scalars(select(Attachment.storage_name).where(Attachment.storage_name.in_(batch))))
        for name in batch:
            if name not in known:
                store.delete(name)
        n = len(batch) - len(known)
        batch.clear()
        return n

    for name in store.stored_older_than(min_age_s):
        batch.append(name)
        if len(batch) >= 500:
            removed += flush()
    if batch:
        removed += flush()
    return removed


def run(db: Session, store: FileStore, orphans: bool = True) -> dict[str, int]:
    """Everything above; web workers pass ``orphans=False`` every few minutes and sweep hourly."""
    spools = store.cleanup_tmp(max_age_s=SPOOL_MAX_AGE_S)
    spent = purge_spent(db)
    sessions = db.execute(delete(ReporterSession).where(ReporterSession.expires_at < datetime.now(timezone.utc))).rowcount or 0
    db.commit()
    swept = sweep_orphans(db, store) if orphans else 0
    return {"spools": spools, "pow_spent": spent, "sessions": sessions, "orphans": swept}
