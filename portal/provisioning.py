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

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.reference import load_reference
from models import Department, DepartmentGrant, StaffUser
from models.department import COORDINATION_CODE
from secure_store import instance, keyring
from secure_store.instance import InstanceSecrets
from secure_store.kdf import Argon2Params

COORDINATION_NAME = "区安委会办公室"
ROLES = {
    "handler": "承办人",
    "head": "部门负责人",
    "coordinator": "区安委会办公室协调员",
    "finance": "财务人员",
    "auditor": "纪委监委审计员",
    "admin": "系统管理员",
}


@dataclass
class InitResult:
    secrets: InstanceSecrets
    recovery_private_hex: str | None  # only when this call created the instance
    departments_created: list[str]


def init_instance(db: Session, data_dir: Path, params: Argon2Params | None = None) -> InitResult:
    created = instance.create(data_dir, params)
    secrets_ = created[0] if created else instance.load(data_dir)
    ref = load_reference()
    wanted = [(COORDINATION_CODE, COORDINATION_NAME, "coordination")] + [
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
                 params: Argon2Params | None = None) -> StaffUser:
    params = params or Argon2Params.from_env()
    personal = keyring.create_personal_key(password, params)
    user = StaffUser(
        username=username,
        display_name=display_name,
        role=role,
        department_id=department.id if department else None,
        password_hash=PasswordHasher().hash(password),
        must_change_password=True,
        personal_public_key=personal.public_key,
        personal_sealed_private=personal.sealed_private,
        personal_key_salt=personal.salt,
        personal_key_params=personal.params.as_dict(),
    )
    db.add(user)
    db.flush()
    if department is not None and department_private is not None:
        db.add(DepartmentGrant(department_id=department.id, user_id=user.id,
                               wrapped_key=keyring.grant_department_key(department_private, department.code, user.personal_public_key)))
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
        ("finance", None), ("auditor", None), ("admin", None),
    ]
    logins: list[dict[str, Any]] = []
    for role, dept_code in plan:
        dept = db.scalar(select(Department).where(Department.code == dept_code)) if dept_code else None
        private = department_private_from_recovery(db, dept_code, recovery_private_hex) if dept_code else None
        username = f"demo-{role}"
        password = secrets.token_urlsafe(12)
        create_staff(db, username, password, role, f"演示{ROLES[role]}", dept, private)
        logins.append({"username": username, "password": password, "role": role, "role_name": ROLES[role],
                       "department": dept.code if dept else None, "department_name": dept.name if dept else None,
                       "totp_secret": None})
    db.commit()
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(logins, fh, ensure_ascii=False, indent=2)
    return logins
