"""Legal-deadline calendar: when a report's statutory time limit runs out.

Staff handle reports under legal limits (check within 60 days, reply within 10 days, some local
rules in "5 working days"). Chinese administrative practice counts a period in days ("60日") in
calendar days from the day after the triggering event, and when the last day is a rest day the
period ends on the next working day; a period in working days ("工作日") skips weekends and
statutory holidays but counts official make-up working days (调休上班). Holiday schedules are
published yearly by the State Council, so they live in a data file (``data/holidays/cn.json``,
or ``$PORTAL_HOLIDAYS_FILE``); years the file does not cover are computed with weekends only,
and :meth:`WorkCalendar.covers` lets the app warn staff that such a deadline is approximate.
All dates are China Standard Time; a deadline is the end (23:59:59.999999 CST) of its date.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

CST = timezone(timedelta(hours=8))
REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO / "data" / "holidays" / "cn.json"
UNITS = ("calendar", "working")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkCalendar:
    """Rest days and make-up working days of mainland China, loaded from a yearly schedule."""

    holidays: frozenset[date]  # statutory rest days that fall on weekdays or weekends
    makeup_workdays: frozenset[date]  # weekend days declared working days (调休)
    source: str  # where it came from (file path or "custom")
    covered_years: frozenset[int] = field(default=frozenset())  # years with a published schedule

    def is_working_day(self, d: date) -> bool:
        """A make-up day always works; otherwise Monday–Friday unless a statutory holiday."""
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (the start day itself is never counted)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        while n > 0:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def add_days(self, start: date, n: int) -> date:
        """A period of n calendar days: ``start + n``, moved to the next working day if a rest day."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self.next_working_day(start + timedelta(days=n))

    def deadline(self, start: date, n: int, unit: str = "calendar") -> date:
        """Last day of a period of ``n`` days (``unit`` "calendar") or working days ("working")."""
        if unit == "calendar":
            due = self.add_days(start, n)
        elif unit == "working":
            due = self.add_working_days(start, n)
        else:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        for year in sorted({start.year, due.year}):
            if year not in self.covered_years:
                log.warning("节假日安排未覆盖 %s 年，期限按周末估算 / holiday schedule does not cover %s "
                            "(%s): deadline %s is approximate", year, year, self.source, due)
        return due

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative (-(working days in (b, a])) when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    def covers(self, d: date) -> bool:
        """Whether the data has a published (non-provisional) schedule for ``d``'s year."""
        return d.year in self.covered_years

    @classmethod
    def load(cls, path: str | Path | None = None) -> WorkCalendar:
        """Read the schedule from ``path``, else ``$PORTAL_HOLIDAYS_FILE``, else the bundled file."""
        p = Path(path or os.environ.get("PORTAL_HOLIDAYS_FILE") or DEFAULT_FILE)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"节假日文件不存在 / holiday file not found: {p}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"节假日文件格式错误 / malformed holiday file {p}: {exc}") from exc
        try:
            cal = cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"节假日文件格式错误 / malformed holiday file {p}: {exc}") from exc
        return replace(cal, source=str(p))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkCalendar:
        """Build from ``{"years": {"2026": {"holidays": [...], "makeup_workdays": [...]}}}``."""
        years = data.get("years") if isinstance(data, dict) else None
        if not isinstance(years, dict):
            raise ValueError("缺少 years 对象 / missing 'years' object")
        holidays: set[date] = set()
        makeup: set[date] = set()
        covered: set[int] = set()
        for key, entry in years.items():
            if not (isinstance(key, str) and key.isdigit() and isinstance(entry, dict)):
                raise ValueError(f"年份条目无效 / invalid year entry {key!r}")
            year = int(key)
            for name, target in (("holidays", holidays), ("makeup_workdays", makeup)):
                values = entry.get(name, [])
                if not isinstance(values, list):
                    raise ValueError(f"{key}.{name} 应为列表 / must be a list")
                for value in values:
                    try:
                        d = date.fromisoformat(value)
                    except (TypeError, ValueError):
                        raise ValueError(f"{key}.{name} 日期无效 / invalid date {value!r}") from None
                    if d.year != year:
                        raise ValueError(f"{key}.{name}: {value} 不属于该年 / is not in year {key}")
                    target.add(d)
            if not entry.get("provisional", False):
                covered.add(year)
        if clash := holidays & makeup:
            raise ValueError(f"既是假日又是调休上班 / both holiday and make-up day: {sorted(clash)}")
        return cls(frozenset(holidays), frozenset(makeup), "custom", frozenset(covered))


def today_cst(now: datetime | None = None) -> date:
    """Today's date in China (the server may run in UTC); naive ``now`` is taken as UTC."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(CST).date()


def end_of_day_utc(d: date) -> datetime:
    """The instant a deadline date expires (23:59:59.999999 CST), as an aware UTC datetime."""
    return datetime.combine(d, time.max, tzinfo=CST).astimezone(timezone.utc)


def days_left(due: date, today: date) -> int:
    """Calendar days until ``due`` (0 on the due day itself, negative once overdue)."""
    return (due - today).days


def deadline_status(due: date, today: date, near_days: int = 3) -> str:
    """"overdue" after the due day, "due_soon" within ``near_days`` calendar days, else "ok"."""
    left = days_left(due, today)
    if left < 0:
        return "overdue"
    return "due_soon" if left <= near_days else "ok"
