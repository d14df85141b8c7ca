"""Proof-of-work for submissions and receipt logins.

Algorithm (documented for client authors in docs/api.md):
- The server issues ``challenge = "v1.<issued unix time>.<bits>.<purpose>.<16 random bytes, b64url>.<mac>"``
  where ``mac`` is HMAC-SHA256 under the instance MAC key over everything before it, truncated to
  16 bytes (b64url). Challenges are stateless until spent.
- The client finds a decimal ``nonce`` such that SHA-256(``challenge + ":" + nonce``) starts with at
  least ``bits`` zero bits. At 18–20 bits that is ~2^18–2^20 hashes: about a second on a phone in
  a Web Worker.
- The server checks the MAC, the purpose, the age (≤ ``MAX_AGE``), the work, then records the
  challenge as spent (a primary key in ``pow_spent``) so it can never be used twice, by any worker.
A form sent with no solution at all (a browser without JavaScript) is not rejected here: the
caller applies a stricter rate limit instead.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import PowSpent

MAX_AGE = 30 * 60
PURPOSES = ("submit", "login")


class PowResult(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    REPLAYED = "replayed"


MESSAGES = {
    PowResult.INVALID: "防刷验证未通过，请重新提交",
    PowResult.EXPIRED: "页面停留时间过长，防刷验证已过期，请重新提交",
    PowResult.REPLAYED: "该防刷验证已被使用过，请重新提交",
}


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:16])


def issue(mac_key: bytes, bits: int, purpose: str, now: float | None = None) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    body = f"v1.{int(now if now is not None else time.time())}.{bits}.{purpose}.{_b64(os.urandom(16))}"
    return f"{body}.{_mac(mac_key, body)}"


def leading_zero_bits(digest: bytes) -> int:
    n = 0
    for byte in digest:
        if byte == 0:
            n += 8
            continue
        return n + (8 - byte.bit_length())
    return n


def solve(challenge: str, bits: int) -> str:
    """Reference solver (tests, benchmarks and non-browser clients)."""
    i = 0
    prefix = challenge.encode("ascii") + b":"
    while True:
        if leading_zero_bits(hashlib.sha256(prefix + str(i).encode()).digest()) >= bits:
            return str(i)
        i += 1


def check(mac_key: bytes, challenge: str, nonce: str, min_bits: int, purpose: str, now: float | None = None) -> PowResult:
    """Stateless part of verification (no database)."""
    if not nonce:  # a browser without JavaScript sends the challenge but never a nonce
        return PowResult.MISSING
    parts = (challenge or "").split(".")
    if len(parts) != 6 or parts[0] != "v1" or not nonce or len(nonce) > 24 or not nonce.isdigit():
        return PowResult.INVALID
    body = ".".join(parts[:5])
    if not hmac.compare_digest(_mac(mac_key, body), parts[5]):
        return PowResult.INVALID
    try:
        issued, bits = int(parts[1]), int(parts[2])
    except ValueError:
        return PowResult.INVALID
    if parts[3] != purpose or bits < min_bits:
        return PowResult.INVALID
    t = now if now is not None else time.time()
    if issued > t + 60 or t - issued > MAX_AGE:
        return PowResult.EXPIRED
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode("ascii")).digest()
    if leading_zero_bits(digest) < bits:
        return PowResult.INVALID
    return PowResult.OK


def verify_and_spend(db: Session, mac_key: bytes, challenge: str, nonce: str, min_bits: int, purpose: str) -> PowResult:
    """Full verification: stateless checks, then mark spent in the database (replay → REPLAYED).

    Uses a savepoint so a replay does not roll back the caller's transaction.
    """
    result = check(mac_key, challenge, nonce, min_bits, purpose)
    if result is not PowResult.OK:
        return result
    digest = hashlib.sha256(challenge.encode("ascii")).digest()
    expires = datetime.now(timezone.utc) + timedelta(seconds=MAX_AGE + 120)
    try:
        with db.begin_nested():
            db.add(PowSpent(digest=digest, expires_at=expires))
            db.flush()
    except IntegrityError:
        return PowResult.REPLAYED
    return PowResult.OK


def purge_spent(db: Session) -> int:
    res = db.execute(delete(PowSpent).where(PowSpent.expires_at < datetime.now(timezone.utc)))
    return res.rowcount or 0
