"""Anti-abuse and reporter-session state shared by every worker (so it lives in the database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class PowSpent(Base):
    """A proof-of-work challenge that has been used once; the primary key makes reuse fail."""

    __tablename__ = "pow_spent"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ReporterSession(Base):
    """A short-lived reporter session after receipt login.

    The token (sent by the client in a header or a hidden form field, never a cookie) is not
    stored: only its SHA-256, and the receipt-derived wrapping key sealed under a key derived from
    the token. The database alone therefore opens nothing.
    """

    __tablename__ = "reporter_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    sealed_wrapping_key: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StaffSession(Base):
    """A staff login. The cookie holds a random token; the database holds its SHA-256 and the
    member's personal private key sealed under a key derived from the token, so the key is
    usable only while the browser presents the cookie and never leaves the server."""

    __tablename__ = "staff_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(12))  # totp | enrol | password | active
    sealed_personal_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
