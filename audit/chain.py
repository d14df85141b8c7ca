"""Appending to and verifying the audit chain (plain SQLAlchemy, no Flask).

Why a chain *and* a key: ``entry_hash = SHA-256(prev_hash || canonical(fields))`` links every
row to its predecessor, so editing, deleting or reordering a row in the middle shows; ``mac =
HMAC-SHA256(audit_key, entry_hash)`` with ``audit_key = derive_audit_key(InstanceSecrets.mac_key)``
means that someone with database access only (a DBA, a stolen backup) cannot recompute a
consistent chain after tampering, because the key lives in the instance's 0600 key file.

What the chain cannot see on its own is a deleted *tail* (the newest rows): the remaining chain
is still valid. Operators should therefore periodically write down the head printed by the CLI
(``head(db)``: seq + hash, e.g. in the monthly report to 纪委监委) and pass it back as
``verify(..., expected_head=(seq, hash_hex))``, which then reports truncation or rewriting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models.audit import AuditEntry
from models.base import utcnow

GENESIS = bytes(32)
HKDF_INFO = b"aqjb audit chain v1"
# pg_advisory_xact_lock key serialising audit appends across workers ("aqjbAudt" as a bigint).
PG_LOCK_KEY = 0x61716A6241756474
MAX_DETAILS_JSON = 4000  # characters; details are codes and ids, never free text
_LIMITS = {"actor": 60, "actor_role": 20, "department_code": 40, "action": 40, "target_type": 20, "target_id": 40}
_AUDIT = AuditEntry.__table__


def derive_audit_key(mac_key: bytes) -> bytes:
    """HKDF-SHA256(mac_key, info="aqjb audit chain v1"): a key used for nothing but the audit MAC."""
    if len(mac_key) < 32:
        raise ValueError("instance mac_key must be at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(mac_key)


class _StaffLike(Protocol):
    id: int
    username: str
    role: str


@dataclass(frozen=True)
class Actor:
    """Who did it. ``department_code`` is the acting staff member's department, if any."""

    id: int | None
    name: str
    role: str
    department_code: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "system", "system", None)

    @classmethod
    def reporter(cls) -> Actor:
        return cls(None, "reporter", "reporter", None)

    @classmethod
    def staff(cls, user: _StaffLike, department_code: str | None = None) -> Actor:
        return cls(user.id, user.username, user.role, department_code)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(*, seq: int, at: datetime, actor_id: int | None, actor: str, actor_role: str,
              department_code: str | None, action: str, target_type: str | None, target_id: str | None,
              details: dict[str, Any], prev_hash: bytes) -> bytes:
    """The deterministic byte string that ``entry_hash`` covers (sorted keys, UTF-8, no spaces)."""
    doc = {
        "seq": seq, "at": _iso(at), "actor_id": actor_id, "actor": actor, "actor_role": actor_role,
        "department_code": department_code, "action": action, "target_type": target_type,
        "target_id": target_id, "details": details, "prev_hash": prev_hash.hex(),
    }
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def compute_hash(prev_hash: bytes, canon: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canon).digest()


def compute_mac(audit_key: bytes, entry_hash: bytes) -> bytes:
    return hmac.new(audit_key, entry_hash, hashlib.sha256).digest()


def _canonical_of(row: Any) -> bytes:
    return canonical(seq=row.seq, at=row.at, actor_id=row.actor_id, actor=row.actor, actor_role=row.actor_role,
                     department_code=row.department_code, action=row.action, target_type=row.target_type,
                     target_id=row.target_id, details=row.details, prev_hash=row.prev_hash)


def _lock_head(db: Session) -> None:
    """Serialise appenders until the caller's transaction ends (see ``record``)."""
    dialect = db.connection().dialect.name
    if dialect == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
    elif dialect == "sqlite":
        # A no-op write makes pysqlite BEGIN and SQLite take the RESERVED (write) lock now, so the
        # head read below happens under the lock instead of in an unlocked deferred read.
        db.execute(text("UPDATE audit_entry SET seq = seq WHERE 0 = 1"))


def head(db: Session) -> tuple[int, str] | None:
    """(seq, entry_hash hex) of the newest entry — what operators should record externally."""
    row = db.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return None if row is None else (row.seq, bytes(row.entry_hash).hex())


def record(db: Session, audit_key: bytes, *, actor: Actor, action: str, target_type: str | None = None,
           target_id: str | None = None, details: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Append one entry inside the caller's transaction and flush; the caller commits.

    The entry commits or rolls back together with the action it records. Concurrency (several
    gunicorn workers):

    - PostgreSQL: ``SELECT pg_advisory_xact_lock(PG_LOCK_KEY)`` is taken before reading the head
      (``ORDER BY seq DESC LIMIT 1``); it is held until the caller commits or rolls back, so audit
      appends are serialised and no two transactions can take the same seq. Under READ COMMITTED
      (the default) the head read after the lock sees every committed entry. Do not call this in
      a REPEATABLE READ/SERIALIZABLE transaction that has already read: its snapshot is stale.
    - SQLite: the database write lock serialises writers; a no-op UPDATE takes it before the head
      is read. A transaction that had already read (stale WAL snapshot) may still fail to get it
      (``OperationalError: database is locked``) or, in any unforeseen case, compute a stale seq,
      which the primary key on ``seq`` turns into an ``IntegrityError`` at flush rather than a
      fork. Either way the caller's transaction fails and may be retried as a whole.

    Raises ``ValueError`` for over-long fields or details that are not a small JSON object.
    """
    values = {"actor": actor.name, "actor_role": actor.role, "department_code": actor.department_code,
              "action": action, "target_type": target_type, "target_id": target_id}
    if not action or not actor.name or not actor.role:
        raise ValueError("audit action, actor name and role are required")
    for name, limit in _LIMITS.items():
        if values[name] is not None and len(values[name]) > limit:  # type: ignore[arg-type]
            raise ValueError(f"audit field {name} longer than {limit} characters")
    if details is not None and not isinstance(details, dict):
        raise ValueError("audit details must be a dict")
    # Round-trip through JSON so what we hash is exactly what the database gives back
    # (non-string keys become strings, tuples lists); refuse NaN and large payloads.
    raw = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, allow_nan=False)
    if len(raw) > MAX_DETAILS_JSON:
        raise ValueError("audit details too large: store codes and ids, not text")
    norm_details: dict[str, Any] = json.loads(raw)
    when = at or utcnow()
    if when.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    when = when.astimezone(timezone.utc)

    _lock_head(db)
    last = db.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (1, GENESIS) if last is None else (last.seq + 1, bytes(last.entry_hash))
    entry = AuditEntry(seq=seq, at=when, actor_id=actor.id, details=norm_details, prev_hash=prev, **values)
    entry.entry_hash = compute_hash(prev, _canonical_of(entry))
    entry.mac = compute_mac(audit_key, entry.entry_hash)
    db.add(entry)
    db.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    count: int
    head_seq: int | None
    head_hash: str | None
    problems: list[str] = field(default_factory=list)


def verify(db: Session, audit_key: bytes, batch: int = 5000, *,
           expected_head: tuple[int, str] | None = None, max_problems: int = 1000) -> VerifyResult:
    """Re-walk the whole chain in ``seq`` order, ``batch`` rows at a time (constant memory).

    Reports edited rows (hash mismatch), forged rows (MAC invalid), deletions in the middle (gaps
    and broken ``prev_hash`` links) and, given an externally recorded ``expected_head``, a deleted
    or rewritten tail. At most ``max_problems`` messages are kept; ``ok`` reflects all of them.
    """
    problems: list[str] = []
    extra = 0

    def problem(msg: str) -> None:
        nonlocal extra
        if len(problems) < max_problems:
            problems.append(msg)
        else:
            extra += 1

    count, prev_seq, prev_hash = 0, 0, GENESIS
    seen_expected: bytes | None = None
    while True:
        rows: Sequence[Any] = db.execute(
            select(_AUDIT).where(_AUDIT.c.seq > prev_seq).order_by(_AUDIT.c.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            count += 1
            stored_hash, stored_mac, link = bytes(row.entry_hash), bytes(row.mac), bytes(row.prev_hash)
            if row.seq > prev_seq + 1:
                gap = (f"seq {prev_seq + 1} missing" if row.seq == prev_seq + 2
                       else f"seq {prev_seq + 1}–{row.seq - 1} missing ({row.seq - prev_seq - 1} entries)")
                problem(f"{gap} (deleted) — 记录缺失，疑被删除")
            if prev_seq == 0 and row.seq == 1 and link != GENESIS:
                problem("seq 1: prev_hash is not genesis — 首条记录的前序哈希不是全零")
            elif prev_seq and link != prev_hash:
                problem(f"seq {row.seq}: prev_hash does not match seq {prev_seq} — 与上一条记录的链接断裂")
            try:
                recomputed = compute_hash(link, _canonical_of(row))
            except (TypeError, ValueError, AttributeError):  # e.g. a NULLed column
                recomputed = b""
            if not hmac.compare_digest(recomputed, stored_hash):
                problem(f"seq {row.seq}: entry_hash mismatch (edited) — 内容与哈希不符，记录被修改")
            if not hmac.compare_digest(compute_mac(audit_key, stored_hash), stored_mac):
                problem(f"seq {row.seq}: MAC invalid — 校验码无效，记录被伪造或密钥不符")
            if expected_head is not None and row.seq == expected_head[0]:
                seen_expected = stored_hash
            prev_seq, prev_hash = row.seq, stored_hash
    if expected_head is not None:
        exp_seq, exp_hex = expected_head
        if prev_seq < exp_seq:
            problem(f"truncated: head is seq {prev_seq}, recorded head was seq {exp_seq} (tail deleted)"
                    f" — 日志尾部被截断")
        elif seen_expected is None:
            problem(f"seq {exp_seq} missing: recorded head not found (deleted) — 外部记录的链头不存在")
        elif seen_expected.hex() != exp_hex.lower():
            problem(f"seq {exp_seq}: entry_hash differs from recorded head (rewritten) — 与外部记录的链头不符")
    if extra:
        problems.append(f"… {extra} more problems — 另有 {extra} 处问题未列出")
    return VerifyResult(ok=not problems, count=count, head_seq=prev_seq or None,
                        head_hash=prev_hash.hex() if prev_seq else None, problems=problems)


def entries(db: Session, *, action: str | None = None, actor: str | None = None, target_id: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 50,
            before_seq: int | None = None) -> list[AuditEntry]:
    """Browse newest first. Pass the last returned ``seq`` as ``before_seq`` for the next page."""
    q = select(AuditEntry)
    if action:
        q = q.where(AuditEntry.action == action)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if target_id:
        q = q.where(AuditEntry.target_id == target_id)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    if before_seq is not None:
        q = q.where(AuditEntry.seq < before_seq)
    q = q.order_by(AuditEntry.seq.desc()).limit(max(1, min(limit, 1000)))
    return list(db.scalars(q))
