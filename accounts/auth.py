"""Staff login (plain Python, no Flask): password (argon2), forced password change, TOTP
enrolment and verification, lockout, and server-side sessions that hold the unlocked key.

The steps of a login are one ``StaffSession`` row whose ``stage`` moves
``password`` (must change it) → ``enrol`` (no TOTP yet) or ``totp`` → ``active``. The member's
personal private key is unlocked once, from the password, and sealed in the session under a key
derived from the cookie token; the database alone opens nothing, the cookie alone opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit.chain import Actor, record
from cases.desk import StaffContext
from models import Department, DepartmentGrant, StaffSession, StaffUser
from models.base import utcnow
from secure_store import envelope, keyring
from secure_store.kdf import Argon2Params

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
ISSUER = "安全生产举报平台"
_COMMON = {"password", "12345678", "123456789012", "qwertyuiop", "anquan123456", "admin1234567"}


class LoginError(Exception):
    """A refused login step; ``message`` is Chinese and safe to show."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def password_hasher() -> PasswordHasher:
    p = Argon2Params.from_env()
    return PasswordHasher(time_cost=p.time_cost, memory_cost=p.memory_kib, parallelism=p.parallelism)


_DUMMY_HASH: str | None = None


def _dummy_verify(password: str) -> None:
    """Spend the same time on an unknown username as on a known one."""
    global _DUMMY_HASH
    ph = password_hasher()
    _DUMMY_HASH = _DUMMY_HASH or ph.hash(secrets.token_hex(8))
    try:
        ph.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


def check_password_policy(password: str, username: str) -> None:
    if len(password) < 12:
        raise LoginError("新密码至少12个字符。", "new_password")
    if password.lower() in _COMMON or username.lower() in password.lower():
        raise LoginError("新密码过于简单或包含用户名，请换一个。", "new_password")
    if len(set(password)) < 6:
        raise LoginError("新密码重复字符过多，请换一个。", "new_password")


def _token_key(token: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aqjb staff session v1").derive(token)


def _decode(token: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == 32 else None


def _totp_key(private_raw: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aqjb totp v1").derive(private_raw)


def seal_totp_secret(user: StaffUser, password: str, secret: str) -> None:
    """Enrol a known TOTP secret (demo accounts and tests): confirmed as if a code had been used."""
    private = keyring.unlock_personal_key(_sealed(user), password)
    user.totp_sealed_secret = envelope.seal(_totp_key(envelope.private_bytes(private)), secret.encode(),
                                            b"totp|" + user.username.encode())
    user.totp_last_step = 1


def totp_enrolled(user: StaffUser) -> bool:
    return user.totp_sealed_secret is not None and user.totp_last_step > 0


def _actor(user: StaffUser) -> Actor:
    return Actor(user.id, user.username, user.role, user.department.code if user.department else None)


@dataclass
class Step:
    token: str
    stage: str


def login(db: Session, audit_key: bytes, username: str, password: str, now: datetime | None = None) -> Step:
    """Check the password, unlock the personal key, and open a session at its first stage."""
    now = now or utcnow()
    user = db.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    if user is None or not user.active:
        _dummy_verify(password)
        record(db, audit_key, actor=Actor(None, username.strip()[:60] or "?", "unknown"), action="login_failed", at=now)
        db.commit()
        raise LoginError("用户名或密码错误。", "password")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginError("连续登录失败次数过多，账号已临时锁定，请15分钟后再试。", "password")
    try:
        password_hasher().verify(user.password_hash, password)
        private = keyring.unlock_personal_key(_sealed(user), password)
    except (VerificationError, InvalidHashError, envelope.DecryptionError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        record(db, audit_key, actor=_actor(user), action="login_failed", at=now)
        db.commit()
        raise LoginError("用户名或密码错误。", "password") from None
    user.failed_logins = 0
    stage = "password" if user.must_change_password else ("totp" if totp_enrolled(user) else "enrol")
    token = _open(db, user, envelope.private_bytes(private), stage, now)
    db.commit()
    return Step(token, stage)


def _sealed(user: StaffUser) -> keyring.SealedPersonalKey:
    return keyring.SealedPersonalKey(user.personal_public_key, user.personal_sealed_private, user.personal_key_salt,
                                     Argon2Params.from_dict(user.personal_key_params))


def _open(db: Session, user: StaffUser, private_raw: bytes, stage: str, now: datetime) -> str:
    raw = secrets.token_bytes(32)
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db.add(StaffSession(token_hash=hashlib.sha256(raw).digest(), user_id=user.id, stage=stage,
                        sealed_personal_key=envelope.seal(_token_key(raw), private_raw, b"staff-session"),
                        created_at=now, last_seen=now, expires_at=now + IDLE_TIMEOUT))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass
class Session_:
    row: StaffSession
    user: StaffUser
    private_raw: bytes


def load(db: Session, token: str | None, now: datetime | None = None, touch: bool = True) -> Session_ | None:
    """A live session (any stage) with the unsealed personal key, or ``None``."""
    now = now or utcnow()
    raw = _decode(token or "")
    if raw is None:
        return None
    row = db.get(StaffSession, hashlib.sha256(raw).digest())
    if row is None or row.expires_at < now or now - row.created_at > ABSOLUTE_TIMEOUT:
        return None
    user = db.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    try:
        private_raw = envelope.open_sealed(_token_key(raw), row.sealed_personal_key, b"staff-session")
    except envelope.DecryptionError:
        return None
    if touch:
        row.last_seen, row.expires_at = now, now + IDLE_TIMEOUT
    return Session_(row, user, private_raw)


def change_password(db: Session, audit_key: bytes, s: Session_, new_password: str, confirm: str) -> str:
    if new_password != confirm:
        raise LoginError("两次输入的新密码不一致。", "confirm")
    check_password_policy(new_password, s.user.username)
    user = s.user
    sealed = keyring.reseal_personal_key(envelope.load_private(s.private_raw), new_password, Argon2Params.from_env())
    user.personal_sealed_private, user.personal_key_salt = sealed.sealed_private, sealed.salt
    user.personal_key_params = sealed.params.as_dict()
    user.password_hash = password_hasher().hash(new_password)
    user.must_change_password = False
    s.row.stage = "totp" if totp_enrolled(user) else "enrol"
    record(db, audit_key, actor=_actor(user), action="password_change")
    db.commit()
    return s.row.stage


def enrolment_secret(db: Session, s: Session_) -> str:
    """The pending TOTP secret (created on first call, sealed like the confirmed one)."""
    user = s.user
    key = _totp_key(s.private_raw)
    if user.totp_sealed_secret is None:
        user.totp_sealed_secret = envelope.seal(key, pyotp.random_base32().encode(), b"totp|" + user.username.encode())
        db.commit()
    return envelope.open_sealed(key, user.totp_sealed_secret, b"totp|" + user.username.encode()).decode()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def verify_code(db: Session, audit_key: bytes, s: Session_, code: str, now: datetime | None = None) -> None:
    """Check a TOTP code (one step of clock drift either way; each step accepted once) and
    activate the session. Used both to confirm enrolment and at every login."""
    now = now or utcnow()
    user = s.user
    if s.row.stage not in ("totp", "enrol") or user.totp_sealed_secret is None:
        raise LoginError("登录步骤有误，请重新登录。")
    secret = envelope.open_sealed(_totp_key(s.private_raw), user.totp_sealed_secret, b"totp|" + user.username.encode()).decode()
    code = "".join(ch for ch in code if ch.isdigit())
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // 30
    matched = next((st for st in (step - 1, step, step + 1) if totp.at(st * 30) == code), None)
    if matched is None or matched <= user.totp_last_step:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            db.delete(s.row)
        record(db, audit_key, actor=_actor(user), action="login_failed", details={"step": "totp"}, at=now)
        db.commit()
        raise LoginError("动态验证码错误或已使用，请输入验证器上的最新6位数字。", "code")
    enrolling = s.row.stage == "enrol"
    user.totp_last_step, user.failed_logins, user.last_login_at = matched, 0, now
    s.row.stage = "active"
    if enrolling:
        record(db, audit_key, actor=_actor(user), action="totp_enrol", at=now)
    record(db, audit_key, actor=_actor(user), action="login", at=now)
    db.commit()


def staff_context(db: Session, s: Session_) -> StaffContext:
    """Open the member's department grants with the personal key (active sessions only)."""
    user = s.user
    private = envelope.load_private(s.private_raw)
    keys = {}
    for grant, dept in db.execute(select(DepartmentGrant, Department).join(Department, Department.id == DepartmentGrant.department_id)
                                  .where(DepartmentGrant.user_id == user.id)):
        try:
            keys[dept.id] = keyring.open_department_grant(grant.wrapped_key, dept.code, private)
        except envelope.DecryptionError:
            continue  # a stale grant (key reset): the head must grant again
    return StaffContext(user_id=user.id, username=user.username, role=user.role, department_id=user.department_id,
                        department_code=user.department.code if user.department else None, keys=keys,
                        custodian=user.identity_custodian)


def logout(db: Session, audit_key: bytes, s: Session_) -> None:
    record(db, audit_key, actor=_actor(s.user), action="logout")
    db.delete(s.row)
    db.commit()
