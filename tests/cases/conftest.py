"""Helpers for case tests: staff members with real keys, reports routed to a department, and a
``Desk`` for a member (as the workbench builds it after login)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import triage
from accounts import auth
from audit.chain import derive_audit_key
from cases.desk import Desk, StaffContext
from intake import service
from intake.reference import load_reference
from intake.validation import validate_report
from models import Department, Report, StaffUser
from portal.provisioning import create_staff, department_private_from_recovery
from secure_store import envelope, instance, keyring
from secure_store.files import FileStore
from tests.conftest import Env


@dataclass
class Member:
    user_id: int
    username: str
    password: str
    totp: str
    role: str
    department: str | None


def add_member(env: Env, role: str, department: str | None, *, must_change: bool = False, grant: bool = True) -> Member:
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    password = "correct horse " + uuid.uuid4().hex[:10]
    secret = pyotp.random_base32()
    with env.db() as db:
        dept = db.scalar(select(Department).where(Department.code == department)) if department else None
        private = department_private_from_recovery(db, department, env.recovery_hex) if (department and grant) else None
        user = create_staff(db, username, password, role, f"测试{role}", dept, private, totp_secret=secret)
        user.must_change_password = must_change
        db.commit()
        return Member(user.id, username, password, secret, role, department)


def context(db: Session, m: Member) -> StaffContext:
    """The staff context a login would produce (keys opened from the member's grants)."""
    user = db.get(StaffUser, m.user_id)
    assert user is not None
    private = keyring.unlock_personal_key(auth._sealed(user), m.password)
    return auth.staff_context(db, auth.Session_(None, user, envelope.private_bytes(private)))  # type: ignore[arg-type]


def desk_for(env: Env, db: Session, m: Member, now: datetime | None = None) -> Desk:
    key = derive_audit_key(instance.load(env.data_dir).mac_key)
    d = Desk(db=db, staff=context(db, m), audit_key=key)
    if now is not None:
        d.now = now
    return d


def intake_ctx(env: Env) -> service.IntakeContext:
    return service.IntakeContext(instance.load(env.data_dir), FileStore(env.data_dir / "store"), load_reference())


def file_to(env: Env, monkeypatch: pytest.MonkeyPatch, department: str | None, text: str = "仓库消防通道被货物堵死，灭火器过期",
            urgency: str = "medium", now: datetime | None = None, **extra: Any) -> str:
    """File a report routed to ``department`` (None: the coordinating office). Returns its number."""
    if department is None:
        route = lambda t, **kw: triage.TriageResult(department=None, confidence=0.0, needs_review=True)  # noqa: E731
    else:
        route = lambda t, **kw: triage.TriageResult(department=department, confidence=0.95, needs_review=False,  # noqa: E731
                                                    urgency=urgency, urgency_score=80)
    monkeypatch.setattr(triage, "route", route)
    from tests.conftest import remember

    remember(text)
    data = validate_report({"description": text, **extra}, load_reference()).value
    assert data is not None
    with env.db() as db:
        filed = service.file_report(db, intake_ctx(env), data, [], now=now)
    return filed.number


def load(db: Session, number: str) -> Report:
    report = db.scalar(select(Report).where(Report.number == number))
    assert report is not None
    return report


def approve_reward(env: Env, number: str, department: str = "emergency", fine: int = 30_000, internal: bool = True) -> int:
    """Take a report (at the coordinating office or already at ``department``) through checking
    and the reply to a finance-approved reward, with three different people and enough budget.
    Returns the reward's amount."""
    from cases import handling, lifecycle
    from cases.lifecycle import Decision
    from cases.rewards import workflow

    handler, head, fin = add_member(env, "handler", department), add_member(env, "head", department), add_member(env, "finance", "finance")
    with env.db() as db:
        r = load(db, number)
        if r.department.code != department:  # manual routing in tests: the coordinating office dispatches it
            lifecycle.transfer(desk_for(env, db, add_member(env, "coordinator", "coordination")), r, department, "按职责移送核查")
            db.commit()
        d = desk_for(env, db, handler)
        lifecycle.accept(d, r)
        lifecycle.start_check(d, r)
        lifecycle.finish_check(d, r, conclusion="confirmed", summary="现场核查情况属实", hazard_level="major",
                               enterprise_name="某生产经营单位", decisions=[Decision("fine", fine, "罚〔2026〕1号")])
        handling.reply(d, r, decision="罚款并责令整改", reward_eligible=True)
        reward = workflow.propose(d, r, workflow.Recorded("major_hazard", internal=internal))
        fd = desk_for(env, db, fin)
        workflow.set_budget(fd, r.department_id, fd.today.year, workflow.committed(db, r.department_id, fd.today.year) + 1_000_000)
        workflow.head_approve(desk_for(env, db, head), r)
        workflow.finance_approve(fd, r, reward)
        db.commit()
        return reward.amount_yuan
