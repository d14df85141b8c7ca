"""The statistics rollup: per CST filing day × department × one dimension value, the same
conditional counts as ``stats.measures``, plus handling-time histograms.

Why: summing ~1,000 rollup rows per day of a period is what keeps the district dashboard within
500 ms at a million reports, where grouping the reports themselves takes seconds
(docs/benchmarks.md). The rollup is refreshed by ``python -m portal oversight-refresh`` — recent
days (``--days``, default 120: where nearly all changes happen) every few minutes, everything
nightly with ``--full`` — and read only while fresh (``usable``); otherwise the dashboard reads
the reports live, which is always correct, only slower. Filters by sector or town also read live.

Medians and p90 from the rollup are interpolated inside histogram buckets (``EDGES``), so they
are exact to the bucket: the dashboard says so.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, insert, literal, literal_column, select, text
from sqlalchemy.orm import Session

from cases.calendar import CST
from models import CaseRecord, Report, StatsRefresh, StatsRollup
from models.base import utcnow
from oversight import stats

ROLLUP_DIMS = ("sector", "town", "report_type", "urgency", "channel", "identity")
# Bucket edges in days for the handling-time histograms (the last bucket is open-ended).
EDGES = (0, 0.25, 0.5, 1, 2, 3, 4, 5, 7, 10, 14, 20, 30, 40, 50, 60, 75, 90, 120, 180, 270, 365)
DURATION_DIMS = {"accept": "d_accept", "check": "d_check", "sign_off": "d_sign_off"}


def _day(db: Session) -> ColumnElement[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'Asia/Shanghai'"), Report.filed_at))
    return func.date(Report.filed_at, "+8 hours")


def _bucket(days: ColumnElement[Any]) -> ColumnElement[Any]:
    whens = [(days < EDGES[i + 1], literal(f"{i:02d}")) for i in range(len(EDGES) - 1)]
    return case(*whens, else_=literal(f"{len(EDGES) - 1:02d}"))


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_of(db: Session, day: Any) -> ColumnElement[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.date_trunc(literal_column("'week'"), day))
    return func.date(day, "-6 days", "weekday 1")


def _scopes(db: Session) -> list[ColumnElement[Any]]:
    """The district-wide rows, and the same rows per sector and per town (reports without one
    are in no sector/town scope: a filter by sector never selects them)."""
    def tagged(tag: str, column: Any) -> ColumnElement[Any]:
        return literal(tag) + func.coalesce(column, literal("-"))  # "s:-": no sector (never a filter value)

    return [literal(""), tagged("s:", Report.sector), tagged("t:", Report.town_code)]


def scope_of(f: stats.StatsFilter) -> str | None:
    """The rollup scope that answers a filter, or None when only the reports can (both a sector
    and a town: the rollup holds one of them at a time)."""
    if f.sector and f.town:
        return None
    if f.sector:
        return "s:" + f.sector
    if f.town:
        return "t:" + f.town
    return ""


def refresh(db: Session, today: date, days: int | None = 120, now: datetime | None = None) -> int:
    """Rebuild the rollup for reports filed from the Monday on or before ``today - days`` (None:
    everything): day rows from the reports, then week rows (``grain`` "w") from the day rows, so
    a long period reads seven times fewer rows. Commits."""
    started = now or utcnow()
    since = monday(today - timedelta(days=days)) if days is not None else None
    meas = stats.measures(db, today)
    names = list(meas)
    day = _day(db)
    where = [Report.filed_at >= datetime.combine(since, time.min, tzinfo=CST)] if since else []
    db.execute(delete(StatsRollup).where(StatsRollup.day >= since) if since else delete(StatsRollup))
    exprs = stats.dimension_exprs(db)
    durations = stats.duration_exprs(db)
    groups: list[tuple[str, ColumnElement[Any]]] = [("total", literal(""))]
    groups += [(d, func.coalesce(exprs[d], literal(""))) for d in ROLLUP_DIMS]
    groups += [(DURATION_DIMS[k], _bucket(durations[k])) for k in DURATION_DIMS]
    meas["check_days_sum"] = func.coalesce(meas["check_days_sum"], 0.0)
    cols = ["grain", "day", "department_id", "scope", "dim", "value", *names]
    for scope in _scopes(db):
        for dim, value in groups:
            only = [durations[k].is_not(None) for k, d in DURATION_DIMS.items() if d == dim]
            # GROUP BY ordinals: the expressions carry bound parameters, which PostgreSQL would not
            # recognise as the same expression twice
            src = (select(literal("d").label("grain"), day.label("day"), Report.department_id, scope.label("scope"),
                          literal(dim).label("dim"), value.label("value"), *[m.label(n) for n, m in meas.items()])
                   .select_from(Report).join(CaseRecord, CaseRecord.report_id == Report.id).where(*where, *only)
                   .group_by(text("2"), text("3"), text("4"), text("6")))
            db.execute(insert(StatsRollup).from_select(cols, src))
    week = _week_of(db, StatsRollup.day)
    weekly = (select(literal("w"), week, StatsRollup.department_id, StatsRollup.scope, StatsRollup.dim, StatsRollup.value,
                     *[func.sum(getattr(StatsRollup, n)) for n in names])
              .where(StatsRollup.grain == "d", *([StatsRollup.day >= since] if since else []))
              .group_by(text("2"), text("3"), text("4"), text("5"), text("6")))
    db.execute(insert(StatsRollup).from_select(cols, weekly))
    rows = db.scalar(select(func.count()).select_from(StatsRollup).where(
        StatsRollup.grain == "d", StatsRollup.scope == "", *([StatsRollup.day >= since] if since else []))) or 0
    finished = utcnow()
    # keep a week of refresh records (one every ten minutes otherwise piles up); the latest full stays
    db.execute(delete(StatsRefresh).where(StatsRefresh.finished_at < finished - timedelta(days=7),
                                          StatsRefresh.since.is_not(None)))
    db.add(StatsRefresh(since=since, as_of=today, started_at=started, finished_at=finished, rows=rows))
    db.commit()
    return rows


def usable(db: Session, now: datetime) -> StatsRefresh | None:
    """The latest refresh, if the rollup may be read: a full rebuild within ``PORTAL_STATS_FULL_MAX_H``
    (default 36) hours and some refresh within ``PORTAL_STATS_MAX_AGE_MIN`` (default 30) minutes."""
    if os.environ.get("PORTAL_STATS_ROLLUP", "1") == "0":
        return None
    latest = db.scalar(select(StatsRefresh).order_by(StatsRefresh.finished_at.desc()).limit(1))
    full = db.scalar(select(func.max(StatsRefresh.finished_at)).where(StatsRefresh.since.is_(None)))
    if latest is None or full is None:
        return None
    if now - full > timedelta(hours=float(os.environ.get("PORTAL_STATS_FULL_MAX_H", "36"))):
        return None
    if now - latest.finished_at > timedelta(minutes=float(os.environ.get("PORTAL_STATS_MAX_AGE_MIN", "30"))):
        return None
    return latest


def _spans(f: stats.StatsFilter) -> list[tuple[str, date, date]]:
    """Whole weeks inside the period from week rows, the days at either end from day rows."""
    first = f.start + timedelta(days=(7 - f.start.weekday()) % 7)  # first Monday on or after start
    stop = monday(f.end + timedelta(days=1))  # Monday after the last whole week
    if first >= stop:
        return [("d", f.start, f.end)]
    out = [("w", first, stop - timedelta(days=7))]
    if f.start < first:
        out.append(("d", f.start, first - timedelta(days=1)))
    if stop <= f.end:
        out.append(("d", stop, f.end))
    return out


def compute(db: Session, f: stats.StatsFilter, today: date) -> stats.Dashboard:
    """The dashboard from the rollup (at most one of sector and town filtered): one grouped read
    per span."""
    names = [n for n in stats.measures(db, today)]
    cols = [getattr(StatsRollup, n) for n in names]
    is_total = StatsRollup.dim == "total"
    dept_key = case((is_total, StatsRollup.department_id), else_=literal(None))
    day_key = case((is_total, StatsRollup.day), else_=literal(None))
    results: list[Any] = []
    scope = scope_of(f)
    if scope is None:
        raise ValueError("a sector and a town together are answered live (stats.compute)")
    for grain, lo, hi in _spans(f):
        where = [StatsRollup.grain == grain, StatsRollup.scope == scope, StatsRollup.day >= lo, StatsRollup.day <= hi]
        if f.department_id is not None:
            where.append(StatsRollup.department_id == f.department_id)
        results += db.execute(select(StatsRollup.dim, StatsRollup.value, dept_key, day_key, *[func.sum(c) for c in cols])
                              .where(*where).group_by(StatsRollup.dim, StatsRollup.value, dept_key, day_key)).all()
    breakdowns: dict[str, dict[Any, list[float]]] = {d: {} for d in stats.DIMENSIONS}
    hist: dict[str, dict[int, int]] = {k: {} for k in DURATION_DIMS}
    width = len(names)

    def add(table: dict[Any, list[float]], key: Any, vals: Any) -> None:
        acc = table.setdefault(key, [0.0] * width)
        for i, v in enumerate(vals):
            acc[i] += float(v or 0)

    for dim, value, dept, day, *vals in results:
        if dim == "total":
            add(breakdowns["department"], dept, vals)
            d = day if isinstance(day, date) else date.fromisoformat(str(day))
            add(breakdowns["week"], (d - timedelta(days=d.weekday())).isoformat(), vals)
        elif dim.startswith("d_"):
            kind = next(k for k, v in DURATION_DIMS.items() if v == dim)
            hist[kind][int(value)] = hist[kind].get(int(value), 0) + int(vals[0] or 0)
        else:
            add(breakdowns[dim], value or None, vals)

    def figs(acc: list[float]) -> stats.Figures:
        d = dict(zip(names, acc))
        s = d.pop("check_days_sum")
        return stats.Figures({k: int(round(v)) for k, v in d.items()}, s)

    total_acc = [0.0] * width
    for acc in breakdowns["department"].values():
        total_acc = [a + b for a, b in zip(total_acc, acc)]
    out = {dim: [(k, figs(acc)) for k, acc in table.items()] for dim, table in breakdowns.items()}
    for dim in out:
        out[dim].sort(key=lambda kv: (kv[0] is None, str(kv[0])) if dim == "week" else (-kv[1]["received"], str(kv[0])))
    durations = stats.Durations({k: (hist_percentile(h, 0.5), hist_percentile(h, 0.9), sum(h.values()))
                                 for k, h in hist.items()})
    return stats.Dashboard(f, today, figs(total_acc), out, durations, stats.reward_figures(db, f))


def hist_percentile(h: dict[int, int], p: float) -> float | None:
    """The p-quantile (percentile_cont's rank convention) interpolated inside its bucket."""
    n = sum(h.values())
    if n == 0:
        return None
    k = p * (n - 1)
    seen = 0
    for i in sorted(h):
        c = h[i]
        if seen + c > k:
            lo = EDGES[i]
            if i + 1 >= len(EDGES):
                return float(lo)
            return lo + (EDGES[i + 1] - lo) * (k - seen + 0.5) / c
        seen += c
    return float(EDGES[max(h)])


def bucket_of(days: float) -> tuple[float, float]:
    for i in range(len(EDGES) - 1):
        if days < EDGES[i + 1]:
            return EDGES[i], EDGES[i + 1]
    return EDGES[-1], float("inf")
