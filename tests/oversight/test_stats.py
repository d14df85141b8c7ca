"""Dashboard figures equal an independent Python tally of the generated case set, on both backends."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from cases.desk import StaffContext
from cases.states import Forbidden
from oversight import stats
from tests.oversight.conftest import DAYS, START

TODAY = START + timedelta(days=DAYS + 3)


def tally(rows: list[Any], today: date) -> Counter[str]:
    c: Counter[str] = Counter()
    for r in rows:
        c["received"] += 1
        c["accepted"] += r.accepted_at is not None
        c["not_accepted"] += r.status == "not_accepted"
        c["transferred"] += r.transfers > 0
        c["checked"] += r.checked_at is not None
        c["confirmed"] += r.hazard
        c["major"] += r.hazard and r.hazard_level == "major"
        c["rectification_ordered"] += r.hazard and r.rectification_due is not None
        c["signed_off"] += r.hazard and r.signed_off_at is not None
        c["closed"] += r.status == "closed"
        c["open"] += r.is_open
        c["overdue"] += r.is_open and r.due_on is not None and r.due_on < today
        c["rectification_overdue"] += (r.hazard and r.signed_off_at is None and r.rectification_due is not None
                                       and r.rectification_due < today)
        c["supervised"] += r.supervised
    return c


def in_period(rows: list[Any], start: date, end: date) -> list[Any]:
    return [r for r in rows if start <= r.filed_day <= end]


def test_totals_and_every_breakdown_match(world: Any) -> None:
    env, rows = world
    start, end = START + timedelta(days=7), START + timedelta(days=41)
    mine = in_period(rows, start, end)
    with env.db() as db:
        dash = stats.compute(db, stats.StatsFilter(start, end), TODAY)
    want = tally(mine, TODAY)
    assert dash.total.counts == {k: want[k] for k in dash.total.counts}
    assert dash.total.counts["received"] == len(mine) > 100
    keys = {"department": lambda r: r.department_id, "sector": lambda r: r.sector, "town": lambda r: r.town,
            "report_type": lambda r: r.report_type, "urgency": lambda r: r.urgency, "channel": lambda r: r.channel,
            "identity": lambda r: "internal" if r.internal else ("anonymous" if r.anonymous else "named"),
            "week": lambda r: (r.filed_day - timedelta(days=r.filed_day.weekday())).isoformat()}
    for dim, key in keys.items():
        groups: dict[Any, list[Any]] = {}
        for r in mine:
            groups.setdefault(key(r), []).append(r)
        got = {k: f.counts for k, f in dash.breakdowns[dim]}
        assert set(got) == set(groups), dim
        for k, members in groups.items():
            w = tally(members, TODAY)
            assert got[k] == {m: w[m] for m in got[k]}, (dim, k)
    checked = [(r.checked_at - r.filed_at).total_seconds() / 86400 for r in mine if r.checked_at]
    assert dash.total.avg_check_days == pytest.approx(statistics.fmean(checked), abs=1e-4)
    rate = want["signed_off"] / want["confirmed"]
    assert dash.total.rectification_rate == pytest.approx(rate)


def test_durations_match_percentile_cont(world: Any) -> None:
    env, rows = world
    start, end = START, START + timedelta(days=DAYS)
    with env.db() as db:
        d = stats.durations(db, stats.StatsFilter(start, end))
    mine = in_period(rows, start, end)
    for name, attr in (("accept", "accepted_at"), ("check", "checked_at"), ("sign_off", "signed_off_at")):
        xs = sorted((getattr(r, attr) - r.filed_at).total_seconds() / 86400 for r in mine if getattr(r, attr))
        med, p90, n = d.values[name]
        assert n == len(xs)
        assert med == pytest.approx(statistics.median(xs), abs=1e-4)
        assert p90 == pytest.approx(stats.percentile(xs, 0.9), abs=1e-4)
    q = statistics.quantiles([1.0, 2.0, 3.0, 4.0, 10.0], n=10, method="inclusive")
    assert stats.percentile([1.0, 2.0, 3.0, 4.0, 10.0], 0.9) == pytest.approx(q[8])


def test_filters_and_department_scope(world: Any) -> None:
    env, rows = world
    start, end = START, START + timedelta(days=DAYS)
    dept = rows[0].department_id
    handler = StaffContext(1, "h", "handler", dept, rows[0].department_code)
    f = stats.scoped(handler, stats.StatsFilter(start, end, department_id=dept + 1, town="suqiao"))
    assert f.department_id == dept  # a handler cannot ask for another department
    with env.db() as db:
        dash = stats.compute(db, f, TODAY, dims=("sector",))
    mine = [r for r in in_period(rows, start, end) if r.department_id == dept and r.town == "suqiao"]
    assert dash.total["received"] == len(mine)
    assert dash.rewards == {"proposed": 0, "paid": 0, "amount_yuan": 0}  # the generated set has no rewards
    for role in ("finance", "admin"):
        with pytest.raises(Forbidden):
            stats.scoped(StaffContext(2, "x", role, None, None), f)


def test_rollup_gives_the_same_figures(world: Any) -> None:
    from datetime import datetime, timezone

    from oversight import rollup

    env, rows = world
    start, end = START + timedelta(days=7), START + timedelta(days=41)
    f = stats.StatsFilter(start, end)
    with env.db() as db:
        n = rollup.refresh(db, TODAY, days=None)
        assert n > 0
        assert rollup.usable(db, datetime.now(timezone.utc)) is not None
        live = stats.compute(db, f, TODAY)
        fast = rollup.compute(db, f, TODAY)
        dept = rows[0].department_id
        live_d = stats.compute(db, stats.StatsFilter(start, end, dept), TODAY)
        fast_d = rollup.compute(db, stats.StatsFilter(start, end, dept), TODAY)
        # a partial refresh of recent days leaves the figures unchanged
        rollup.refresh(db, TODAY, days=30)
        again = rollup.compute(db, f, TODAY)
    assert fast.total.counts == live.total.counts and again.total.counts == live.total.counts
    assert fast.total.check_days_sum == pytest.approx(live.total.check_days_sum)
    assert fast_d.total.counts == live_d.total.counts
    with env.db() as db:  # periods cut inside weeks: whole weeks from week rows, the ends from day rows
        for a, b in ((3, 38), (9, 12), (0, DAYS), (15, 15)):
            g = stats.StatsFilter(START + timedelta(days=a), START + timedelta(days=b))
            lv, fs = stats.compute(db, g, TODAY), rollup.compute(db, g, TODAY)
            assert fs.total.counts == lv.total.counts, (a, b)
            assert {k: v.counts for k, v in fs.breakdowns["week"]} == {k: v.counts for k, v in lv.breakdowns["week"]}
    for dim in stats.DIMENSIONS:
        assert {k: v.counts for k, v in fast.breakdowns[dim]} == {k: v.counts for k, v in live.breakdowns[dim]}, dim
    sector = next(r.sector for r in rows if r.sector)
    town = next(r.town for r in rows if r.town)
    with env.db() as db:  # a sector or a town filter reads its own scope of the rollup
        for g in (stats.StatsFilter(start, end, sector=sector), stats.StatsFilter(start, end, town=town),
                  stats.StatsFilter(start, end, dept, town=town)):
            lv, fs = stats.compute(db, g, TODAY), rollup.compute(db, g, TODAY)
            assert lv.total["received"] > 0 and fs.total.counts == lv.total.counts, g
            for dim in stats.DIMENSIONS:
                assert {k: v.counts for k, v in fs.breakdowns[dim]} == {k: v.counts for k, v in lv.breakdowns[dim]}, (g, dim)
        both = stats.StatsFilter(start, end, sector=sector, town=town)
        assert rollup.scope_of(both) is None and "汇总表" not in (stats.fast_compute(db, both, TODAY).source or "")
    for name, (med, p90, count) in live.durations.values.items():
        fmed, fp90, fcount = fast.durations.values[name]
        assert fcount == count
        for exact, approx in ((med, fmed), (p90, fp90)):
            lo, hi = rollup.bucket_of(exact)
            assert lo <= approx <= hi, (name, exact, approx)


def test_reward_figures_count_the_filtered_reports(world: Any) -> None:
    """Rewards on three reports inside the period (two paid) and one outside: the figures count
    only the filtered reports. Written in a transaction that is rolled back (the world is shared)."""
    from sqlalchemy import select

    from models import Report, Reward, RewardPayout
    from tests.cases.conftest import add_member

    env, rows = world
    start, end = START, START + timedelta(days=DAYS)
    inside = [r.number for r in in_period(rows, start, end)][:3]
    outside = [r.number for r in rows if r.filed_at.date() >= end][:1]
    member = add_member(env, "finance", "finance")
    with env.db() as db:
        paid = 0
        for i, number in enumerate(inside + outside):
            rep = db.scalar(select(Report).where(Report.number == number))
            w = Reward(report_id=rep.id, department_id=rep.department_id, status="paid" if i != 1 else "proposed",
                       rule_set="henan-2025", facts={}, quote={}, amount_yuan=3000 + i, proposed_by=member.user_id)
            db.add(w)
            db.flush()
            if i != 1:
                db.add(RewardPayout(reward_id=w.id, report_id=rep.id, department_id=rep.department_id, voucher_no=f"V{i}-{number}",
                                    paid_on=START, amount_yuan=3000 + i, method="bank", recorded_by=member.user_id))
                paid += (3000 + i) if number in inside else 0
        db.flush()
        got = stats.reward_figures(db, stats.StatsFilter(start, end))
        db.rollback()
    assert got == {"proposed": len(inside), "paid": len(inside) - 1, "amount_yuan": paid}
