"""Oversight statistics from case metadata only (no decryption): flow counts, rates, durations,
overdue, supervision, broken down by department, sector, town, report type, urgency, channel,
identity mode and week.

Why one grouped query: on PostgreSQL every breakdown is a ``GROUPING SETS`` member of a single
scan; SQLite has no grouping sets, so each set runs as its own ``GROUP BY`` with the very same
expressions, which keeps the figures identical on both backends. At a million reports even one
scan of a district year takes seconds, so pages go through ``fast_compute``, which reads the
rollup (oversight/rollup.py) when it is fresh. Definitions are documented in docs/oversight.md
and must stay in step with ``measures``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select, tuple_
from sqlalchemy.orm import Session

from cases.calendar import CST
from cases.desk import DEPARTMENT_ROLES, StaffContext
from cases.states import Forbidden
from cases.ttl_cache import TTLCache
from models import CaseRecord, Report

HAZARD_LEVELS = ("major", "general")
CONFIRMED = ("confirmed", "partly")
DIMENSIONS = ("department", "sector", "town", "report_type", "urgency", "channel", "identity", "week")
CHANNEL_LABELS = {"web": "网站", "api": "接口（热线/小程序）", "operator": "人工录入"}
IDENTITY_LABELS = {"anonymous": "匿名", "named": "实名", "internal": "内部吹哨人"}
REPORT_TYPE_LABELS = {"major_hazard": "重大事故隐患", "general_hazard": "一般事故隐患", "illegal_operation": "非法违法生产经营",
                      "concealed_accident": "瞒报谎报事故", "out_of_scope": "非安全生产事项"}


@dataclass(frozen=True)
class StatsFilter:
    """Reports filed from ``start`` to ``end`` inclusive (CST dates), optionally narrowed."""

    start: date
    end: date
    department_id: int | None = None
    sector: str | None = None
    town: str | None = None

    def utc_bounds(self) -> tuple[datetime, datetime]:
        lo = datetime.combine(self.start, time.min, tzinfo=CST)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=CST)
        return lo, hi


def department_scope(staff: StaffContext, requested: int | None) -> int | None:
    """Handlers and heads see their own department only (whatever they asked for); the
    coordinating office and auditors see the district; every other role nothing."""
    if staff.role in DEPARTMENT_ROLES and staff.department_id is not None:
        return staff.department_id
    if staff.role in ("coordinator", "auditor"):
        return requested
    raise Forbidden("您的角色无权查看统计。")


def scoped(staff: StaffContext, f: StatsFilter) -> StatsFilter:
    return StatsFilter(f.start, f.end, department_scope(staff, f.department_id), f.sector, f.town)


def confirmed_hazard() -> ColumnElement[bool]:
    """属实（含部分属实）且认定为重大或一般事故隐患: what the ledger lists and rates divide by."""
    return and_(CaseRecord.conclusion.in_(CONFIRMED), CaseRecord.hazard_level.in_(HAZARD_LEVELS))


def _days(db: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _week(db: Session) -> ColumnElement[Any]:
    """The Monday (CST) of the filing week, as ISO text on both backends."""
    if db.get_bind().dialect.name == "postgresql":
        # literal constants, not bound parameters: GROUP BY must repeat the select expression exactly
        local = func.timezone(literal_column("'Asia/Shanghai'"), Report.filed_at)
        return func.to_char(func.date_trunc(literal_column("'week'"), local), literal_column("'YYYY-MM-DD'"))
    return func.date(Report.filed_at, "+8 hours", "-6 days", "weekday 1")


def identity_expr() -> ColumnElement[str]:
    return case((Report.internal.is_(True), "internal"), (Report.anonymous.is_(True), "anonymous"), else_="named")


def dimension_exprs(db: Session) -> dict[str, ColumnElement[Any]]:
    return {"department": Report.department_id, "sector": Report.sector, "town": Report.town_code,
            "report_type": Report.report_type, "urgency": Report.urgency, "channel": Report.channel,
            "identity": identity_expr(), "week": _week(db)}


def measures(db: Session, today: date) -> dict[str, ColumnElement[Any]]:
    """Every figure is a conditional count over the filtered reports (see docs/oversight.md)."""
    hazard = confirmed_hazard()
    return {
        "received": func.count(),
        "accepted": func.count(CaseRecord.accepted_at),
        "not_accepted": func.count().filter(Report.status == "not_accepted"),
        "transferred": func.count().filter(CaseRecord.transfers > 0),
        "checked": func.count(CaseRecord.checked_at),
        "confirmed": func.count().filter(hazard),
        "major": func.count().filter(hazard, CaseRecord.hazard_level == "major"),
        "rectification_ordered": func.count().filter(hazard, CaseRecord.rectification_due.is_not(None)),
        "signed_off": func.count().filter(hazard, CaseRecord.signed_off_at.is_not(None)),
        "closed": func.count().filter(Report.status == "closed"),
        "open": func.count().filter(Report.is_open.is_(True)),
        "overdue": func.count().filter(Report.is_open.is_(True), Report.due_on < today),
        "rectification_overdue": func.count().filter(hazard, CaseRecord.signed_off_at.is_(None),
                                                     CaseRecord.rectification_due < today),
        "supervised": func.count().filter(Report.supervised.is_(True)),
        "check_days_sum": func.sum(_days(db, CaseRecord.checked_at, Report.filed_at)),
    }


def _where(f: StatsFilter) -> list[ColumnElement[bool]]:
    lo, hi = f.utc_bounds()
    out: list[ColumnElement[bool]] = [Report.filed_at >= lo, Report.filed_at < hi]
    if f.department_id is not None:
        out.append(Report.department_id == f.department_id)
    if f.sector:
        out.append(Report.sector == f.sector)
    if f.town:
        out.append(Report.town_code == f.town)
    return out


@dataclass
class Figures:
    """One row of figures (the total, or one value of a breakdown)."""

    counts: dict[str, int]
    check_days_sum: float = 0.0

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    @property
    def rectification_rate(self) -> float | None:
        """已销号 / 属实隐患; None when there is nothing to rectify."""
        c = self.counts["confirmed"]
        return self.counts["signed_off"] / c if c else None

    @property
    def avg_check_days(self) -> float | None:
        n = self.counts["checked"]
        return self.check_days_sum / n if n else None


@dataclass
class Durations:
    """Median and p90 in days from filing to acceptance, to finished checking, to sign-off."""

    values: dict[str, tuple[float | None, float | None, int]]


@dataclass
class Dashboard:
    filter: StatsFilter
    today: date
    total: Figures
    breakdowns: dict[str, list[tuple[Any, Figures]]]
    durations: Durations
    rewards: dict[str, int] = field(default_factory=dict)
    source: str = "实时统计"


def _figures(row: Any, names: list[str]) -> Figures:
    vals = dict(zip(names, row))
    s = float(vals.pop("check_days_sum") or 0.0)
    return Figures({k: int(v or 0) for k, v in vals.items()}, s)


def compute(db: Session, f: StatsFilter, today: date, dims: tuple[str, ...] = DIMENSIONS,
            with_durations: bool = True) -> Dashboard:
    """The whole dashboard for one filter: the total, every breakdown, durations, rewards."""
    meas = measures(db, today)
    names = list(meas)
    exprs = dimension_exprs(db)
    base = select().select_from(Report).join(CaseRecord, CaseRecord.report_id == Report.id).where(*_where(f))
    breakdowns: dict[str, list[tuple[Any, Figures]]] = {d: [] for d in dims}
    if db.get_bind().dialect.name == "postgresql":
        plain = [exprs[d] for d in dims]
        gid = func.grouping(*plain).label("gid")
        stmt = base.add_columns(*plain, gid, *[m.label(n) for n, m in meas.items()]).group_by(
            func.grouping_sets(*plain, tuple_()))
        total = Figures({n: 0 for n in names if n != "check_days_sum"})
        width = len(dims)
        for row in db.execute(stmt):
            g = row.gid
            figs = _figures(row[width + 1:], names)
            if g == (1 << width) - 1:
                total = figs
                continue
            for i, d in enumerate(dims):  # grouping() bit is 0 for the grouped column
                if not g & (1 << (width - 1 - i)):
                    breakdowns[d].append((row[i], figs))
    else:
        total = _figures(db.execute(base.add_columns(*meas.values())).one(), names)
        for d in dims:
            key = exprs[d].label("k")
            for row in db.execute(base.add_columns(key, *meas.values()).group_by(key)):
                breakdowns[d].append((row[0], _figures(row[1:], names)))
    for d in dims:
        breakdowns[d].sort(key=lambda kv: (kv[0] is None, str(kv[0])) if d == "week" else (-kv[1]["received"], str(kv[0])))
    return Dashboard(f, today, total, breakdowns, durations(db, f) if with_durations else Durations({}),
                     reward_figures(db, f))


DURATIONS = ("accept", "check", "sign_off")


def duration_exprs(db: Session) -> dict[str, ColumnElement[Any]]:
    return {"accept": _days(db, CaseRecord.accepted_at, Report.filed_at),
            "check": _days(db, CaseRecord.checked_at, Report.filed_at),
            "sign_off": _days(db, CaseRecord.signed_off_at, Report.filed_at)}


def durations(db: Session, f: StatsFilter) -> Durations:
    """Median and p90 (continuous percentiles, as PostgreSQL's percentile_cont) of the three
    handling times. PostgreSQL computes them in SQL; SQLite returns the duration column only."""
    cols = duration_exprs(db)
    base = select().select_from(Report).join(CaseRecord, CaseRecord.report_id == Report.id).where(*_where(f))
    out: dict[str, tuple[float | None, float | None, int]] = {}
    if db.get_bind().dialect.name == "postgresql":
        aggs = []
        for c in cols.values():
            aggs += [func.percentile_cont(0.5).within_group(c), func.percentile_cont(0.9).within_group(c), func.count(c)]
        row = db.execute(base.add_columns(*aggs)).one()
        for i, name in enumerate(cols):
            med, p90, n = row[3 * i: 3 * i + 3]
            out[name] = (float(med) if med is not None else None, float(p90) if p90 is not None else None, int(n))
        return Durations(out)
    for name, c in cols.items():
        xs = [float(v) for (v,) in db.execute(base.add_columns(c).where(c.is_not(None)))]
        out[name] = (percentile(xs, 0.5), percentile(xs, 0.9), len(xs))
    return Durations(out)


def percentile(xs: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (= percentile_cont)."""
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def reward_figures(db: Session, f: StatsFilter) -> dict[str, int]:
    """Rewards proposed (reports with a reward proposal, refused ones included) and paid (count and
    yuan) for the reports the filter selects; every caller (dashboard, public page, notices) reads
    them here. Two aggregate queries over the reward tables, which hold one row per reward."""
    from models import Reward, RewardPayout

    where = _where(f)
    proposed = db.scalar(select(func.count(func.distinct(Reward.report_id))).join(Report, Report.id == Reward.report_id)
                         .where(*where)) or 0
    paid, amount = db.execute(select(func.count(RewardPayout.id), func.coalesce(func.sum(RewardPayout.amount_yuan), 0))
                              .join(Report, Report.id == RewardPayout.report_id).where(*where)).one()
    return {"proposed": int(proposed), "paid": int(paid or 0), "amount_yuan": int(amount or 0)}


def fast_compute(db: Session, f: StatsFilter, today: date, dims: tuple[str, ...] = DIMENSIONS) -> Dashboard:
    """From the rollup when it is fresh and the filter allows (not a sector and a town together),
    else live.
    ``Dashboard.source`` says which, and the rollup's refresh time."""
    from models.base import utcnow
    from oversight import rollup

    if rollup.scope_of(f) is not None:
        fresh = rollup.usable(db, utcnow())
        if fresh is not None:
            dash = rollup.compute(db, f, fresh.as_of)
            dash.source = f"汇总表（{fresh.finished_at.astimezone(CST):%Y-%m-%d %H:%M} 更新；中位数和90%分位按分段估算）"
            return dash
    return compute(db, f, today, dims, with_durations=dims == DIMENSIONS)


_CACHE: TTLCache[Dashboard] = TTLCache(max_entries=200)
CACHE_TTL_S = 300.0


def cached_compute(db: Session, f: StatsFilter, today: date, ttl_s: float = CACHE_TTL_S) -> Dashboard:
    """``compute`` shared for up to five minutes (per worker) by everyone asking the same filter:
    the figures are for oversight, not for working a case, and a district-wide year at a million
    reports is the expensive query (docs/benchmarks.md). The filter carries the department scope,
    so a department never gets another's cached figures."""
    return _CACHE.get_or_compute((f, today), ttl_s, lambda: fast_compute(db, f, today))
