"""周排名 / 月通报 rankings of departments and towns.

Score (0–100, higher is better) = weighted mean of three part scores over the reports filed from
1 January of the period's year to the period's last day (cumulative, as campaign rankings are):

* rectification: 100 × signed-off hazards / confirmed hazards (100 when nothing to rectify);
* overdue: 100 × (1 − overdue / the largest overdue count among those ranked) (100 when none);
* handling time: 100 × (slowest − own) / (slowest − fastest) average days from filing to the end of
  checking (100 when all equal or nothing checked).

Weights default to 0.5 / 0.3 / 0.2, set by ``PORTAL_RANK_WEIGHTS="rate=0.5,overdue=0.3,time=0.2"``
or ``--weights``. Ties are broken by name. See docs/oversight.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from oversight import stats
from oversight.labels import Labels


class PeriodError(ValueError):
    """Bad period or weights; the message is Chinese and safe to show at the field."""


@dataclass(frozen=True)
class Period:
    kind: str  # weekly | monthly
    label: str  # 2026-W49 | 2026-11
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> "Period":
        text = (text or "").strip().upper()
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", text):
            year, week = int(m[1]), int(m[2])
            try:
                start = date.fromisocalendar(year, week, 1)
            except ValueError:
                raise PeriodError("周次无效：请按 2026-W49 的格式填写。") from None
            return cls("weekly", f"{year}-W{week:02d}", start, start + timedelta(days=6))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12 or not 2000 <= year <= 2100:
                raise PeriodError("月份无效：请按 2026-11 的格式填写。")
            start = date(year, month, 1)
            nxt = date(year + (month == 12), month % 12 + 1, 1)
            return cls("monthly", f"{year}-{month:02d}", start, nxt - timedelta(days=1))
        raise PeriodError("期间格式应为 2026-W49（周）或 2026-11（月）。")

    @property
    def title(self) -> str:
        if self.kind == "weekly":
            y, w = self.label.split("-W")
            return f"{y}年第{int(w)}周，{self.start.month}月{self.start.day}日至{self.end.month}月{self.end.day}日"
        y, m = self.label.split("-")
        return f"{y}年{int(m)}月"

    def cumulative(self) -> stats.StatsFilter:
        return stats.StatsFilter(date(self.end.year, 1, 1), self.end)


@dataclass(frozen=True)
class Weights:
    rate: float = 0.5
    overdue: float = 0.3
    time: float = 0.2

    @classmethod
    def parse(cls, text: str | None) -> "Weights":
        if not text:
            return cls()
        values = {}
        for part in text.split(","):
            name, _, raw = part.partition("=")
            name = name.strip()
            if name not in ("rate", "overdue", "time"):
                raise PeriodError("权重格式应为 rate=0.5,overdue=0.3,time=0.2。")
            try:
                values[name] = float(raw)
            except ValueError:
                raise PeriodError(f"权重 {name} 不是数字。") from None
            if not 0 <= values[name] <= 100:
                raise PeriodError("权重应在0到100之间。")
        w = cls(**{**cls().__dict__, **values})
        if w.rate + w.overdue + w.time <= 0:
            raise PeriodError("权重之和应大于0。")
        return w

    @classmethod
    def from_env(cls) -> "Weights":
        return cls.parse(os.environ.get("PORTAL_RANK_WEIGHTS"))

    def describe(self) -> str:
        return f"整改销号率 {self.rate:g}、超期案件 {self.overdue:g}、平均办理时长 {self.time:g}"


@dataclass
class Entry:
    key: Any
    name: str
    received: int
    confirmed: int
    signed_off: int
    rate: float | None
    overdue: int
    avg_days: float | None
    score: float = 0.0
    position: int = 0


@dataclass
class Ranking:
    period: Period
    weights: Weights
    departments: list[Entry]
    towns: list[Entry]
    total: stats.Figures


def _entries(rows: dict[Any, stats.Figures], names: dict[Any, str]) -> list[Entry]:
    empty = stats.Figures({k: 0 for k in ("received", "confirmed", "signed_off", "overdue", "checked")})
    out = []
    for key, name in names.items():
        f = rows.get(key, empty)
        out.append(Entry(key, name, f["received"], f["confirmed"], f["signed_off"], f.rectification_rate,
                         f["overdue"], f.avg_check_days))
    return out


def score(entries: list[Entry], w: Weights) -> list[Entry]:
    """Fill ``score`` and ``position`` (1 = best) following the module's formula."""
    worst_overdue = max((e.overdue for e in entries), default=0)
    times = [e.avg_days for e in entries if e.avg_days is not None]
    slow, fast = (max(times), min(times)) if times else (0.0, 0.0)
    total_w = w.rate + w.overdue + w.time
    for e in entries:
        s_rate = 100.0 * e.rate if e.rate is not None else 100.0
        s_over = 100.0 * (1 - e.overdue / worst_overdue) if worst_overdue else 100.0
        s_time = 100.0 * (slow - e.avg_days) / (slow - fast) if e.avg_days is not None and slow > fast else 100.0
        e.score = round((w.rate * s_rate + w.overdue * s_over + w.time * s_time) / total_w, 2)
    entries.sort(key=lambda e: (-e.score, e.name))
    for i, e in enumerate(entries, start=1):
        e.position = i
    return entries


def rank(db: Session, period: Period, today: date, weights: Weights, labels: Labels | None = None) -> Ranking:
    labels = labels or Labels.load(db)
    dash = stats.fast_compute(db, period.cumulative(), today, dims=("department", "town"))
    by_dept = dict(dash.breakdowns["department"])
    by_town = dict(dash.breakdowns["town"])
    return Ranking(period, weights, score(_entries(by_dept, labels.ranked_departments()), weights),
                   score(_entries(by_town, labels.towns), weights), dash.total)
