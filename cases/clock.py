"""Legal clocks on a case: the configurable limits, and the one deadline that governs each stage.

Every stage has a date by which the department must act (rules.md §3). ``refresh_due`` puts the
earliest pending one on ``Report.due_on`` so the queue sorts and filters by it with an index; the
case page shows each clock separately.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from cases import states
from cases.calendar import WorkCalendar, today_cst


@dataclass(frozen=True)
class Limits:
    """Time limits in days. ``screen_working_days`` (受理审查) has no statutory figure: 5 working
    days is this product's default [I]; ``reply_unit`` may be set to "working" where local rules
    say 5 working days [R]."""

    screen_working_days: int = 5
    check_days: int = states.CHECK_DAYS
    max_extension_days: int = states.MAX_EXTENSION_DAYS
    reply_days: int = states.REPLY_DAYS
    reply_unit: str = "calendar"
    objection_days: int = states.OBJECTION_DAYS
    recheck_days: int = states.RECHECK_DAYS
    near_days: int = 3

    @classmethod
    def from_env(cls) -> "Limits":
        env = os.environ
        base = cls()
        return cls(
            screen_working_days=int(env.get("PORTAL_CASE_SCREEN_WORKING_DAYS", base.screen_working_days)),
            check_days=int(env.get("PORTAL_CASE_CHECK_DAYS", base.check_days)),
            max_extension_days=int(env.get("PORTAL_CASE_MAX_EXTENSION_DAYS", base.max_extension_days)),
            reply_days=int(env.get("PORTAL_CASE_REPLY_DAYS", base.reply_days)),
            reply_unit=env.get("PORTAL_CASE_REPLY_UNIT", base.reply_unit),
            objection_days=int(env.get("PORTAL_CASE_OBJECTION_DAYS", base.objection_days)),
            recheck_days=int(env.get("PORTAL_CASE_RECHECK_DAYS", base.recheck_days)),
        )


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    return WorkCalendar.load()


@lru_cache(maxsize=1)
def default_limits() -> Limits:
    return Limits.from_env()


def open_case(report, now: datetime, calendar: WorkCalendar | None = None, limits: Limits | None = None) -> None:  # type: ignore[no-untyped-def]
    """Create the case record of a newly filed report with its screening deadline. A critical
    report is due the same day."""
    from models import CaseRecord

    calendar = calendar or default_calendar()
    limits = limits or default_limits()
    today = today_cst(now)
    due = today if report.urgency == "critical" else calendar.deadline(today, limits.screen_working_days, "working")
    report.case = CaseRecord(screen_due=due)
    report.is_open = True
    report.due_on = due


def _min(*dates: date | None) -> date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None


def stage_due(report) -> date | None:  # type: ignore[no-untyped-def]
    """The earliest deadline the department still owes in the report's current state."""
    c = report.case
    if c is None or report.status in states.TERMINAL_STATES:
        return None
    reply_pending = c.reply_due if c.replied_at is None else None
    by_state = {
        "received": c.screen_due,
        "accepted": c.check_due,
        "checking": c.check_due,
        "checked": reply_pending,
        "rectifying": _min(reply_pending, c.rectification_due),
        "signed_off": reply_pending,
        "rechecking": c.recheck_due,
    }
    return by_state.get(report.status)


def refresh_due(report, supervision_due: date | None = None) -> None:  # type: ignore[no-untyped-def]
    report.is_open = report.status in states.OPEN_STATES
    report.due_on = _min(stage_due(report), supervision_due if report.is_open else None)


def clocks(report, today: date, limits: Limits | None = None) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every clock on a case for the case page: label, due date, days left, status."""
    from cases.calendar import days_left, deadline_status

    limits = limits or default_limits()
    c = report.case
    if c is None:
        return []
    rows: list[tuple[str, date | None, bool]] = [
        ("受理审查", c.screen_due, c.accepted_at is not None or report.status != "received"),
        ("核查期限" + (f"（已延长{c.extension_days}日）" if c.extension_days else ""), c.check_due, c.checked_at is not None),
        ("答复举报人", c.reply_due, c.replied_at is not None),
        ("异议期", c.objection_due, c.objected_at is not None or (c.objection_due is not None and today > c.objection_due)),
        ("复查期限", c.recheck_due, report.status != "rechecking"),
        ("整改期限", c.rectification_due, c.signed_off_at is not None),
    ]
    out = []
    for label, due, done in rows:
        if due is None:
            continue
        out.append({"label": label, "due": due, "done": done,
                    "days_left": days_left(due, today),
                    "status": "done" if done else deadline_status(due, today, limits.near_days)})
    return out
