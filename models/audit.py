"""The append-only, hash-chained, keyed audit log (审计日志).

纪委监委 auditors must be able to trust that nobody — staff member or DBA — silently edited or
deleted the record of who viewed, decrypted, downloaded, exported, transitioned or transferred a
case, or revealed a reporter's identity. Each row therefore carries ``prev_hash`` (the previous
row's ``entry_hash``), its own ``entry_hash`` = SHA-256(prev_hash || canonical fields) and a
``mac`` = HMAC-SHA256(audit key, entry_hash) under a key derived from the instance secret that
lives in a 0600 file, never in the database. See ``audit.chain`` for writing and verifying.

``seq`` is assigned by ``audit.chain.record`` (previous + 1, from 1), never by the database, so
a gap means a deletion and a duplicate is refused by the primary key. ``actor_id`` deliberately
has no foreign key: the log must outlive the staff accounts it mentions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class AuditEntry(Base):
    """One audit record. Written only through ``audit.chain.record``; never updated or deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "target_type", "target_id"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # staff_user.id at the time, as a plain integer (no FK: survives account deletion).
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(60))  # username, "system" or "reporter"
    actor_role: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str | None] = mapped_column(String(20))
    target_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # Small dict of codes/ids/reasons. Never report plaintext (the caller guarantees it).
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))

    def __repr__(self) -> str:
        return f"<AuditEntry seq={self.seq} action={self.action!r} actor={self.actor!r} target={self.target_id!r}>"
