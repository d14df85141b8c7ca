"""Creating an instance: secrets, departments with their keys, staff accounts (no Flask here).

``init`` is what a real deployment runs once; ``demo`` adds one account per role for trying the
product. Both are idempotent.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.reference import load_reference
from models import Department, DepartmentGrant, StaffUser
from models.department import COORDINATION_CODE, FINANCE_CODE
from secure_store import instance, keyring
from secure_store.instance import InstanceSecrets
from secure_store.kdf import Argon2Params

COORDINATION_NAME = "区安委会办公室"
FINANCE_NAME = "财务部门（举报奖励资金）"
from accounts.admin import ROLES


@dataclass
class InitResult:
    secrets: InstanceSecrets
    recovery_private_hex: str | None  # only when this call created the instance
    departments_created: list[str]


def init_instance(db: Session, data_dir: Path, params: Argon2Params | None = None) -> InitResult:
    created = instance.create(data_dir, params)
    secrets_ = created[0] if created else instance.load(data_dir)
    ref = load_reference()
    wanted = [(COORDINATION_CODE, COORDINATION_NAME, "coordination"), (FINANCE_CODE, FINANCE_NAME, "finance")] + [
        (code, name, "department") for code, name in ref.departments.items()
    ]
    made: list[str] = []
    existing = set(db.scalars(select(Department.code)))
    for code, name, kind in wanted:
        if code in existing:
            continue
        _private, public, recovery_wrapped = keyring.create_department_key(code, secrets_.recovery_public)
        db.add(Department(code=code, name=name, kind=kind, public_key=public, recovery_wrapped_key=recovery_wrapped))
        made.append(code)
    db.commit()
    return InitResult(secrets_, created[1].hex() if created else None, made)


def department_private_from_recovery(db: Session, code: str, recovery_private_hex: str):  # type: ignore[no-untyped-def]
    """The key ceremony's escape hatch: open a department key with the offline recovery key."""
    from secure_store import envelope

    dept = db.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise KeyError(code)
    rec = envelope.load_private(bytes.fromhex(recovery_private_hex))
    return keyring.open_department_grant(dept.recovery_wrapped_key, code, rec)


def create_staff(db: Session, username: str, password: str, role: str, display_name: str,
                 department: Department | None, department_private: Any | None,
                 params: Argon2Params | None = None, totp_secret: str | None = None) -> StaffUser:
    """An account (see accounts.admin.new_user), granted its department key when the caller holds
    it (install time: from the recovery key), optionally with TOTP already enrolled (demo only)."""
    from accounts.admin import new_user
    from accounts.auth import seal_totp_secret

    user = new_user(db, username, password, role, display_name, department)
    if department is not None and department_private is not None:
        db.add(DepartmentGrant(department_id=department.id, user_id=user.id,
                               wrapped_key=keyring.grant_department_key(department_private, department.code, user.personal_public_key)))
    if totp_secret is not None:
        seal_totp_secret(user, password, totp_secret)
    return user


def demo_accounts(db: Session, data_dir: Path, recovery_private_hex: str | None) -> list[dict[str, Any]]:
    """One account per role. Demo passwords are kept in ``<data dir>/demo-logins.json`` (mode
    0600) so they can be printed again — acceptable for a demo, never for production."""
    logins_file = Path(data_dir) / "demo-logins.json"
    if logins_file.exists():
        return json.loads(logins_file.read_text(encoding="utf-8"))
    if recovery_private_hex is None:
        raise RuntimeError("demo accounts must be created together with the instance (use a fresh data dir)")
    plan = [
        ("handler", "fire"), ("head", "fire"), ("coordinator", COORDINATION_CODE),
        ("finance", FINANCE_CODE), ("auditor", None), ("admin", None),
    ]
    logins: list[dict[str, Any]] = []
    for role, dept_code in plan:
        dept = db.scalar(select(Department).where(Department.code == dept_code)) if dept_code else None
        private = department_private_from_recovery(db, dept_code, recovery_private_hex) if dept_code else None
        username = f"demo-{role}"
        password = secrets.token_urlsafe(12)
        totp = pyotp.random_base32()
        user = create_staff(db, username, password, role, f"演示{ROLES[role]}", dept, private, totp_secret=totp)
        user.must_change_password = False  # demo only: real accounts change the password at first login
        logins.append({"username": username, "password": password, "role": role, "role_name": ROLES[role],
                       "department": dept.code if dept else None, "department_name": dept.name if dept else None,
                       "totp_secret": totp, "totp_uri": pyotp.TOTP(totp).provisioning_uri(name=username, issuer_name="安全生产举报平台")})
    db.commit()
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(logins, fh, ensure_ascii=False, indent=2)
    return logins


def create_admin(db: Session, audit_key: bytes, username: str, display_name: str) -> str:
    """The key ceremony's first account: an administrator with a temporary password (returned,
    to be changed at first login). Administrators never hold a department key."""
    from accounts.admin import new_user, temporary_password
    from accounts.auth import LoginError
    from audit.chain import Actor, record

    username = username.strip()
    if not username or len(username) > 60 or not all(c.isalnum() or c in "-_." for c in username):
        raise LoginError("用户名只能包含字母、数字和 - _ .，最长60个字符。", "username")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise LoginError("该用户名已存在。", "username")
    password = temporary_password()
    new_user(db, username, password, "admin", (display_name or username).strip()[:60], None)
    record(db, audit_key, actor=Actor.system(), action="config_change", target_type="staff", target_id=username,
           details={"op": "create_admin", "via": "key-ceremony"})
    db.commit()
    return password


def grant_from_recovery(db: Session, audit_key: bytes, department_code: str, username: str, recovery_private_hex: str) -> None:
    """Give a department's (or office's) first key holder the key, opened with the offline
    recovery key. Only to a member of that department who has set their own password (the
    administrator knows the temporary one)."""
    from accounts.auth import LoginError
    from audit.chain import Actor, record
    from secure_store import envelope

    dept = db.scalar(select(Department).where(Department.code == department_code))
    if dept is None:
        raise LoginError(f"没有代码为 {department_code} 的部门。", "department")
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or user.department_id != dept.id or not user.active:
        raise LoginError(f"{username} 不是 {dept.name} 的在职成员。", "username")
    if user.must_change_password:
        raise LoginError(f"{username} 尚未用临时密码登录并设置自己的密码，不能授予密钥。", "username")
    if db.scalar(select(DepartmentGrant.id).where(DepartmentGrant.user_id == user.id, DepartmentGrant.department_id == dept.id)):
        raise LoginError(f"{username} 已持有 {dept.name} 的密钥。", "username")
    try:
        private = department_private_from_recovery(db, department_code, recovery_private_hex)
    except (ValueError, envelope.DecryptionError) as exc:
        raise LoginError("恢复密钥不正确。", "recovery_key") from exc
    db.add(DepartmentGrant(department_id=dept.id, user_id=user.id,
                           wrapped_key=keyring.grant_department_key(private, dept.code, user.personal_public_key)))
    record(db, audit_key, actor=Actor.system(), action="config_change", target_type="staff", target_id=username,
           details={"op": "grant_department_key", "department": dept.code, "via": "recovery-key"})
    db.commit()
