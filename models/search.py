"""The blind search index: keyed digests of the words of each report, never the words.

Why a separate table holding only ``(term, report_id)``: report text and enterprise names are
sealed (see secure_store.envelope), yet staff must find reports by enterprise and keyword. Each
indexed word is stored as HMAC-SHA256(instance-derived key, ``field:word``) truncated to 16 bytes
(see secure_store.blind_index and docs/blind-index.md). No field name, position or count column:
each would tell a database reader more about the text than term equality already does.

The primary key is (term, report_id) with ``term`` first, so a lookup by digest is an index range
scan; the secondary index on ``report_id`` serves re-indexing and deletion of one report.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SearchTerm(Base):
    """One keyed term digest present in one report (set semantics: at most one row per pair)."""

    __tablename__ = "search_term"

    term: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ReportFingerprint(Base):
    """A keyed, non-invertible similarity fingerprint of the report text (triage.duplicates), made
    at filing from the plaintext in memory, so staff see likely duplicates without anything being
    decrypted for the comparison. What it leaks to a key holder is in triage/duplicates.py."""

    __tablename__ = "report_fingerprint"

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
