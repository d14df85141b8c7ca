"""Who is acting and with which keys: the staff context, access rules, and the ``Desk`` every
case function works through (database session, clock, audit).

Access is decided twice: by role and department here (and in the queue's SQL filter), and by
cryptography — a report can be opened only with a department key it is wrapped for, and a member
holds only the keys of the departments granted to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import Session

from audit.chain import Actor, record
from cases.calendar import WorkCalendar, today_cst
from cases.clock import Limits, default_calendar, default_limits
from cases.states import Forbidden
from models import Department, Report, ReportEvent
from models.base import utcnow
from models.department import COORDINATION_CODE
from secure_store import envelope, report_keys
from secure_store.report_keys import ReportKeys

DEPARTMENT_ROLES = frozenset({"handler", "head"})
CASE_READERS = frozenset({"handler", "head", "coordinator"})
METADATA_READERS = CASE_READERS | {"auditor"}


@dataclass
class StaffContext:
    """A logged-in member: role, department, and the department private keys their grants
    opened for this session (empty for auditors, finance and administrators)."""

    user_id: int
    username: str
    role: str
    department_id: int | None
    department_code: str | None
    keys: dict[int, X25519PrivateKey] = field(default_factory=dict)
    custodian: bool = False

    def actor(self) -> Actor:
        return Actor(id=self.user_id, name=self.username, role=self.role, department_code=self.department_code)

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator" and self.department_code == COORDINATION_CODE


def visible_clause(staff: StaffContext) -> ColumnElement[bool]:
    """The SQL half of access control: which reports' metadata a member may list."""
    if staff.role in DEPARTMENT_ROLES and staff.department_id is not None:
        return Report.department_id == staff.department_id
    if staff.role == "coordinator" or staff.role == "auditor":
        return true()
    return false()


def can_see(staff: StaffContext, report: Report) -> bool:
    if staff.role in DEPARTMENT_ROLES:
        return staff.department_id is not None and report.department_id == staff.department_id
    return staff.role in ("coordinator", "auditor")


def can_read(staff: StaffContext, report: Report) -> bool:
    """Content access: the handling department's members and the coordinating office."""
    return staff.role in CASE_READERS and can_see(staff, report)


@dataclass
class Desk:
    """The working context of one staff action; ``now`` is injectable for clock tests."""

    db: Session
    staff: StaffContext
    audit_key: bytes
    now: datetime = field(default_factory=utcnow)
    calendar: WorkCalendar = field(default_factory=default_calendar)
    limits: Limits = field(default_factory=default_limits)

    @property
    def today(self) -> date:
        return today_cst(self.now)

    def require(self, allowed: bool, message: str = "您没有权限执行此操作。") -> None:
        if not allowed:
            raise Forbidden(message)

    def require_role(self, report: Report, roles: frozenset[str] | set[str]) -> None:
        self.require(self.staff.role in roles and can_see(self.staff, report))

    def reader_department_id(self) -> int | None:
        if self.staff.role in DEPARTMENT_ROLES:
            return self.staff.department_id
        if self.staff.role == "coordinator":
            return self.coordination().id
        return None

    def keys(self, report: Report, with_identity: bool = False) -> ReportKeys:
        """The report's data keys through this member's department key; Forbidden otherwise."""
        self.require(can_read(self.staff, report))
        dept_id = self.reader_department_id()
        private = self.staff.keys.get(dept_id) if dept_id is not None else None
        if private is None:
            raise Forbidden("您的账号没有该部门的密钥授权，无法解密。")
        try:
            return report_keys.department_keys(report, dept_id, private, with_identity)  # type: ignore[arg-type]
        except envelope.DecryptionError as exc:
            raise Forbidden("该举报未对您的部门授权，无法解密。") from exc

    def coordination(self) -> Department:
        from sqlalchemy import select

        dept = self.db.scalar(select(Department).where(Department.code == COORDINATION_CODE))
        if dept is None:
            raise RuntimeError("coordinating office missing: run `python -m portal init`")
        return dept

    def audit(self, action: str, report: Report | None = None, **details: Any) -> None:
        record(self.db, self.audit_key, actor=self.staff.actor(), action=action,
               target_type="report" if report is not None else None,
               target_id=report.number if report is not None else None, details=details or None, at=self.now)

    def event(self, report: Report, kind: str, public: bool) -> None:
        report.events.append(ReportEvent(kind=kind, at=self.now, public=public))
