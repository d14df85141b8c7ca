"""Account administration. The administrator creates accounts and resets passwords but never
holds a department key: a new member gets a department's key from that department's head (or,
for the coordinating office, a coordinator) who holds it in their session — the key ceremony
never passes through the administrator.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.auth import LoginError, password_hasher
from audit.chain import record
from cases.desk import StaffContext
from models import Department, DepartmentGrant, StaffSession, StaffUser
from secure_store import keyring
from secure_store.kdf import Argon2Params

ROLES = {
    "handler": "承办人",
    "head": "部门负责人",
    "coordinator": "区安委会办公室协调员",
    "finance": "财务人员",
    "auditor": "纪委监委审计员",
    "admin": "系统管理员",
}
DEPARTMENT_BOUND = {"handler", "head", "coordinator", "finance"}
KEYHOLDER_ROLES = ("head", "coordinator", "finance")  # may grant their own office's key to a new member


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def _require_admin(actor: StaffContext) -> None:
    if actor.role != "admin":
        raise LoginError("只有系统管理员可以管理账号。")


def new_user(db: Session, username: str, password: str, role: str, display_name: str, department: Department | None) -> StaffUser:
    """An account with a fresh personal key; it must change the password at first login."""
    personal = keyring.create_personal_key(password, Argon2Params.from_env())
    user = StaffUser(username=username, display_name=display_name, role=role,
                     department_id=department.id if department else None,
                     password_hash=password_hasher().hash(password), must_change_password=True,
                     personal_public_key=personal.public_key, personal_sealed_private=personal.sealed_private,
                     personal_key_salt=personal.salt, personal_key_params=personal.params.as_dict())
    db.add(user)
    db.flush()
    return user


def create_account(db: Session, audit_key: bytes, actor: StaffContext, *, username: str, role: str,
                   display_name: str, department_code: str | None) -> tuple[StaffUser, str]:
    _require_admin(actor)
    username = username.strip()
    if not username or len(username) > 60 or not all(c.isalnum() or c in "-_." for c in username):
        raise LoginError("用户名只能包含字母、数字和 - _ .，最长60个字符。", "username")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise LoginError("该用户名已存在。", "username")
    if role not in ROLES:
        raise LoginError("请选择角色。", "role")
    if not display_name.strip():
        raise LoginError("请填写姓名。", "display_name")
    department = None
    if role in DEPARTMENT_BOUND:
        department = db.scalar(select(Department).where(Department.code == (department_code or "")))
        if department is None or (role == "coordinator") != (department.kind == "coordination") \
                or (role == "finance") != (department.kind == "finance"):
            raise LoginError("请为该角色选择正确的部门（协调员属于区安委会办公室，财务人员属于财务部门）。", "department")
    password = temporary_password()
    user = new_user(db, username, password, role, display_name.strip()[:60], department)
    record(db, audit_key, actor=actor.actor(), action="config_change", target_type="staff", target_id=username,
           details={"op": "create_account", "role": role, "department": department.code if department else None})
    db.commit()
    return user, password


def reset_password(db: Session, audit_key: bytes, actor: StaffContext, user_id: int) -> str:
    """A forgotten password loses the personal key: a new key pair, TOTP re-enrolment, and the
    department grants must be given again by the head (nothing is lost: the department keys
    are also wrapped to the offline recovery key)."""
    _require_admin(actor)
    user = db.get(StaffUser, user_id)
    if user is None:
        raise LoginError("账号不存在。")
    password = temporary_password()
    personal = keyring.create_personal_key(password, Argon2Params.from_env())
    user.personal_public_key, user.personal_sealed_private = personal.public_key, personal.sealed_private
    user.personal_key_salt, user.personal_key_params = personal.salt, personal.params.as_dict()
    user.password_hash = password_hasher().hash(password)
    user.must_change_password = True
    user.totp_sealed_secret, user.totp_last_step = None, 0
    user.locked_until, user.failed_logins = None, 0
    for grant in db.scalars(select(DepartmentGrant).where(DepartmentGrant.user_id == user.id)):
        db.delete(grant)
    for sess in db.scalars(select(StaffSession).where(StaffSession.user_id == user.id)):
        db.delete(sess)
    record(db, audit_key, actor=actor.actor(), action="config_change", target_type="staff", target_id=user.username,
           details={"op": "reset_password"})
    db.commit()
    return password


def set_active(db: Session, audit_key: bytes, actor: StaffContext, user_id: int, active: bool) -> None:
    _require_admin(actor)
    user = db.get(StaffUser, user_id)
    if user is None or user.id == actor.user_id:
        raise LoginError("不能停用自己的账号。")
    user.active = active
    if not active:
        for sess in db.scalars(select(StaffSession).where(StaffSession.user_id == user.id)):
            db.delete(sess)
    record(db, audit_key, actor=actor.actor(), action="config_change", target_type="staff", target_id=user.username,
           details={"op": "activate" if active else "deactivate"})
    db.commit()


def members_without_key(db: Session, actor: StaffContext) -> list[StaffUser]:
    if actor.role not in KEYHOLDER_ROLES or actor.department_id is None:
        return []
    granted = select(DepartmentGrant.user_id).where(DepartmentGrant.department_id == actor.department_id)
    return list(db.scalars(select(StaffUser).where(StaffUser.department_id == actor.department_id, StaffUser.active,
                                                   StaffUser.id.not_in(granted), StaffUser.must_change_password.is_(False))))


def grant_key(db: Session, audit_key: bytes, actor: StaffContext, user_id: int) -> None:
    """The head gives a member of their department the department key (wrapped to the member's
    personal public key). Only after the member has set their own password."""
    if actor.role not in KEYHOLDER_ROLES or actor.department_id not in actor.keys:
        raise LoginError("只有持有部门密钥的负责人可以授权。")
    member = db.get(StaffUser, user_id)
    if member is None or member.department_id != actor.department_id or member.must_change_password:
        raise LoginError("只能给已设置密码的本部门成员授权。")
    if db.scalar(select(DepartmentGrant.id).where(DepartmentGrant.user_id == member.id,
                                                  DepartmentGrant.department_id == actor.department_id)):
        raise LoginError("该成员已持有部门密钥。")
    dept = db.get(Department, actor.department_id)
    assert dept is not None
    db.add(DepartmentGrant(department_id=dept.id, user_id=member.id,
                           wrapped_key=keyring.grant_department_key(actor.keys[dept.id], dept.code, member.personal_public_key)))
    record(db, audit_key, actor=actor.actor(), action="config_change", target_type="staff", target_id=member.username,
           details={"op": "grant_department_key", "department": dept.code})
    db.commit()


def set_custodian(db: Session, audit_key: bytes, actor: StaffContext, user_id: int, custodian: bool) -> None:
    """Designate a department member who may approve identity reveals besides the head."""
    _require_admin(actor)
    user = db.get(StaffUser, user_id)
    if user is None or user.role not in ("handler", "head"):
        raise LoginError("只有部门承办人或负责人可以被指定为身份信息保管人。")
    user.identity_custodian = custodian
    record(db, audit_key, actor=actor.actor(), action="config_change", target_type="staff", target_id=user.username,
           details={"op": "custodian_on" if custodian else "custodian_off"})
    db.commit()
