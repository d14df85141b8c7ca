"""The queue: ordering, filters, counts and department scoping against counts computed here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from cases.queue import QueueFilter, counts, queue
from cases.states import URGENCY_RANK
from models import CaseRecord, Department, Report
from tests.cases.conftest import add_member, context, file_to
from tests.conftest import Env

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def dept_reports(env: Env) -> tuple[object, list[str]]:
    """Twelve open reports in 'water' with chosen deadlines, urgencies and supervision."""
    mp = pytest.MonkeyPatch()
    try:
        numbers = [file_to(env, mp, "water", text=f"水库大坝第{i}处渗水，闸门锈死") for i in range(12)]
    finally:
        mp.undo()
    plan = [(-3, "low", True), (-1, "critical", False), (0, "high", False), (2, "medium", True), (3, "medium", False),
            (4, "low", False), (10, "critical", False), (30, "high", False), (None, "medium", False), (1, "low", False),
            (-10, "medium", False), (5, "high", True)]
    with env.db() as db:
        for number, (days, urgency, supervised) in zip(numbers, plan):
            due = TODAY + timedelta(days=days) if days is not None else None
            db.execute(update(Report).where(Report.number == number).values(
                due_on=due, urgency=urgency, urgency_rank=URGENCY_RANK[urgency], supervised=supervised))
        rid = db.scalar(select(Report.id).where(Report.number == numbers[0]))
        db.execute(update(CaseRecord).where(CaseRecord.report_id == rid).values(escalation=2))
        closed = db.scalar(select(Report.id).where(Report.number == numbers[11]))
        db.execute(update(Report).where(Report.id == closed).values(status="closed", is_open=False))
        db.commit()
    return plan, numbers


def test_counts_and_filters_match_an_independent_count(env: Env, dept_reports) -> None:  # type: ignore[no-untyped-def]
    plan, numbers = dept_reports
    open_plan = plan[:11]
    member = add_member(env, "handler", "water")
    with env.db() as db:
        staff = context(db, member)
        c = counts(db, staff, TODAY)
        assert c["open"] == 11
        assert c["overdue"] == sum(1 for d, _, _ in open_plan if d is not None and d < 0)
        assert c["due_soon"] == sum(1 for d, _, _ in open_plan if d is not None and 0 <= d <= 3)
        assert c["supervised"] == sum(1 for _, _, s in open_plan if s)
        assert c["escalated"] == 1
        page = queue(db, staff, QueueFilter(), TODAY)
        assert page.total == 11
        keys = [(r.urgency_rank, r.due_on or date.max) for r in page.rows]
        assert keys == sorted(keys)  # urgency first, then the deadline, undated last
        assert page.rows[0].urgency == "critical" and page.rows[0].due_on == TODAY - timedelta(days=1)
        overdue = queue(db, staff, QueueFilter(overdue=True), TODAY)
        assert {r.number for r in overdue.rows} == {n for n, (d, _, _) in zip(numbers, open_plan) if d is not None and d < 0}
        assert queue(db, staff, QueueFilter(status="all"), TODAY).total == 12
        assert queue(db, staff, QueueFilter(status="closed"), TODAY).total == 1
        assert queue(db, staff, QueueFilter(urgency="critical"), TODAY).total == 2


def test_departments_see_only_their_own_and_auditors_all(env: Env, dept_reports) -> None:  # type: ignore[no-untyped-def]
    _, numbers = dept_reports
    with env.db() as db:
        water_id = db.scalar(select(Department.id).where(Department.code == "water"))
        other = context(db, add_member(env, "handler", "forestry"))
        assert not set(numbers) & {r.number for r in queue(db, other, QueueFilter(status="all"), TODAY).rows}
        auditor = context(db, add_member(env, "auditor", None))
        seen = queue(db, auditor, QueueFilter(status="all", department_id=water_id), TODAY)
        assert set(numbers) <= {r.number for r in seen.rows}
        finance = context(db, add_member(env, "finance", "finance"))
        assert queue(db, finance, QueueFilter(status="all"), TODAY).total == 0


def test_cached_counts_are_shared_per_view_and_expire(env: Env, dept_reports) -> None:  # type: ignore[no-untyped-def]
    from cases import queue as q

    member = add_member(env, "handler", "water")
    with env.db() as db:
        staff = context(db, member)
        q._COUNTS_CACHE.clear()
        first = q.cached_counts(db, staff, TODAY)
        q._COUNTS_CACHE[next(iter(q._COUNTS_CACHE))] = (float("inf"), {**first, "open": -1})
        assert q.cached_counts(db, staff, TODAY)["open"] == -1  # served from the cache
        other = context(db, add_member(env, "handler", "forestry"))
        assert q.cached_counts(db, other, TODAY)["open"] != -1  # another department, another entry
        assert q.cached_counts(db, staff, TODAY, ttl_s=0)["open"] == -1  # still cached until it expires
        q._COUNTS_CACHE.clear()
        assert q.cached_counts(db, staff, TODAY) == first


def test_search_pages_in_queue_order_with_count(env: Env, dept_reports) -> None:  # type: ignore[no-untyped-def]
    from intake.reference import load_reference  # noqa: F401  (reference data loaded by the filer)
    from secure_store import instance
    from secure_store.blind_index import derive_index_key

    _, numbers = dept_reports
    key = derive_index_key(instance.load(env.data_dir).mac_key)
    member = add_member(env, "handler", "water")
    with env.db() as db:
        staff = context(db, member)
        found = queue(db, staff, QueueFilter(query="水库 渗水"), TODAY, key)
        plain = queue(db, staff, QueueFilter(), TODAY)
        assert found.total == 11 and not found.capped
        assert [r.number for r in found.rows] == [r.number for r in plain.rows]  # same order as the queue
        assert queue(db, staff, QueueFilter(query="水库 塔吊"), TODAY, key).total == 0
