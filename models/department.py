"""Departments (and the coordinating office), staff members and their key grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow

COORDINATION_CODE = "coordination"
FINANCE_CODE = "finance"  # the finance office: holds the key claimants' payment details are sealed to


class Department(Base):
    """A body that holds a key. ``kind`` is ``department`` (a taxonomy code, receives reports),
    ``coordination`` (区安委会办公室, which sees every report and dispatches unroutable ones) or
    ``finance`` (the finance office: never receives reports; claimants' payment details are
    sealed to its key)."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="department")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    recovery_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffUser(Base):
    """A staff member. The password hash is argon2 (PHC string); the personal private key is
    sealed under a separate Argon2id derivation of the same password (see secure_store.keyring)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    personal_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    personal_sealed_private: Mapped[bytes] = mapped_column(LargeBinary)
    personal_key_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    personal_key_params: Mapped[dict[str, int]] = mapped_column(JSON)
    # TOTP secret sealed under a key derived from the personal private key: only a login opens it
    totp_sealed_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(default=0)  # a code is accepted once
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    identity_custodian: Mapped[bool] = mapped_column(default=False)  # may approve identity reveals
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department | None] = relationship()


class DepartmentGrant(Base):
    """A department's private key wrapped to one member's personal public key."""

    __tablename__ = "department_grant"
    __table_args__ = (UniqueConstraint("department_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
