"""Removing what expires: abandoned upload spools, spent proof-of-work records, reporter sessions.

Run by ``python -m portal cleanup`` and, opportunistically, by each web worker at most every
``INTERVAL_S`` seconds, so a deployment without a cron job does not accumulate them.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.orm import Session

from intake.pow import purge_spent
from models import ReporterSession
from secure_store.files import FileStore

INTERVAL_S = 600
SPOOL_MAX_AGE_S = 6 * 3600  # a reporter may leave a failed form open for hours before fixing it


def run(db: Session, store: FileStore) -> dict[str, int]:
    spools = store.cleanup_tmp(max_age_s=SPOOL_MAX_AGE_S)
    spent = purge_spent(db)
    sessions = db.execute(delete(ReporterSession).where(ReporterSession.expires_at < datetime.now(timezone.utc))).rowcount or 0
    db.commit()
    return {"spools": spools, "pow_spent": spent, "sessions": sessions}
