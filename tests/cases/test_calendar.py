"""Legal-deadline calendar: worked examples from the 2025/2026 State Council schedules."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.calendar import (
    CST,
    DEFAULT_FILE,
    WorkCalendar,
    days_left,
    deadline_status,
    end_of_day_utc,
    today_cst,
)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load(DEFAULT_FILE)


def test_calendar_period_ending_on_saturday_rolls_to_monday(cal: WorkCalendar) -> None:
    assert date(2026, 9, 1) + timedelta(days=60) == date(2026, 10, 31)  # a Saturday
    assert cal.add_days(date(2026, 9, 1), 60) == date(2026, 11, 2)
    assert cal.deadline(date(2026, 9, 1), 60) == date(2026, 11, 2)


def test_calendar_period_ending_inside_national_day_rolls_to_first_working_day(cal: WorkCalendar) -> None:
    assert cal.deadline(date(2026, 9, 2), 30, "calendar") == date(2026, 10, 8)
    assert cal.deadline(date(2026, 9, 7), 30) == date(2026, 10, 8)  # 10-07, last holiday day
    assert cal.deadline(date(2026, 9, 8), 30) == date(2026, 10, 8)  # 10-08 itself is a working day


def test_calendar_period_ending_on_workday_is_not_moved(cal: WorkCalendar) -> None:
    assert cal.add_days(date(2026, 3, 2), 10) == date(2026, 3, 12)
    assert cal.add_days(date(2026, 3, 12), 0) == date(2026, 3, 12)


def test_working_days_count_makeup_saturday_and_skip_national_day(cal: WorkCalendar) -> None:
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (调休上班), 10-12..16, 10-19, 10-20
    assert cal.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    assert cal.deadline(date(2026, 9, 30), 10, unit="working") == date(2026, 10, 20)
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_working_days_across_spring_festival_2026(cal: WorkCalendar) -> None:
    # 02-13 Fri, 02-14 Sat (调休上班), 02-15..02-23 off, 02-24, 02-25, 02-26
    assert cal.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)
    assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 26)) == 5


def test_working_days_across_national_day_2025(cal: WorkCalendar) -> None:
    # 09-28 Sun and 10-11 Sat are make-up days; 10-01..10-08 off
    assert cal.add_working_days(date(2025, 9, 26), 10) == date(2025, 10, 16)


def test_add_working_days_zero_is_start_and_negative_rejected(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 10, 3), -1)
    with pytest.raises(ValueError):
        cal.add_days(date(2026, 10, 3), -1)


def test_is_working_day(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert cal.is_working_day(date(2026, 1, 4))  # Sunday, 调休上班
    assert not cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 2, 23))  # Monday inside 春节
    assert not cal.is_working_day(date(2026, 10, 17))  # ordinary Saturday
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert cal.next_working_day(date(2026, 10, 8)) == date(2026, 10, 8)


def test_working_days_between_sign_and_bounds(cal: WorkCalendar) -> None:
    a, b = date(2026, 9, 30), date(2026, 10, 20)
    assert cal.working_days_between(a, b) == 10
    assert cal.working_days_between(b, a) == -10
    assert cal.working_days_between(a, a) == 0
    # (a, b]: the end counts, the start does not
    assert cal.working_days_between(date(2026, 10, 9), date(2026, 10, 10)) == 1
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 10, 11)) == 0


def test_invalid_unit(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="unit"):
        cal.deadline(date(2026, 1, 5), 5, unit="工作日")


def test_covers_and_provisional_year(cal: WorkCalendar) -> None:
    assert cal.covers(date(2025, 6, 1)) and cal.covers(date(2026, 12, 31))
    assert not cal.covers(date(2027, 3, 1))  # provisional: schedule not yet published
    assert not cal.covers(date(2030, 1, 1))
    assert not cal.is_working_day(date(2027, 10, 1))  # fixed-date statutory day still known
    assert cal.is_working_day(date(2030, 1, 2))  # uncovered year: weekends only


def test_uncovered_year_warns_but_still_computes(cal: WorkCalendar, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        assert cal.deadline(date(2030, 1, 7), 5, "working") == date(2030, 1, 14)
    assert "2030" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        cal.deadline(date(2026, 3, 2), 5, "working")
    assert caplog.text == ""


def test_deadline_status_boundaries() -> None:
    due = date(2026, 10, 20)
    assert deadline_status(due, due) == "due_soon"  # due today is not overdue
    assert deadline_status(due, due + timedelta(days=1)) == "overdue"
    assert deadline_status(due, due - timedelta(days=3)) == "due_soon"
    assert deadline_status(due, due - timedelta(days=4)) == "ok"
    assert deadline_status(due, due - timedelta(days=4), near_days=4) == "due_soon"
    assert days_left(due, date(2026, 10, 18)) == 2
    assert days_left(due, date(2026, 10, 21)) == -1


def test_time_zone_helpers() -> None:
    assert today_cst(datetime(2026, 10, 7, 15, 59, tzinfo=timezone.utc)) == date(2026, 10, 7)
    assert today_cst(datetime(2026, 10, 7, 16, 0, tzinfo=timezone.utc)) == date(2026, 10, 8)
    assert today_cst(datetime(2026, 10, 7, 16, 0)) == date(2026, 10, 8)  # naive = UTC
    assert today_cst(datetime(2026, 10, 8, 0, 30, tzinfo=CST)) == date(2026, 10, 8)
    assert isinstance(today_cst(), date)
    eod = end_of_day_utc(date(2026, 10, 8))
    assert eod == datetime(2026, 10, 8, 15, 59, 59, 999999, tzinfo=timezone.utc)
    assert eod.utcoffset() == timedelta(0)
    assert today_cst(eod) == date(2026, 10, 8)
    assert today_cst(eod + timedelta(microseconds=1)) == date(2026, 10, 9)


def test_bundled_file_is_consistent() -> None:
    raw = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert raw["source"] and raw["note"]
    assert raw["years"]["2027"]["provisional"] is True
    for year, entry in raw["years"].items():
        for d in entry["makeup_workdays"]:
            assert date.fromisoformat(d).weekday() >= 5, (year, d)
    assert len(raw["years"]["2025"]["holidays"]) == 28
    assert len(raw["years"]["2026"]["holidays"]) == 33


def write(tmp_path: Path, content: object, name: str = "h.json") -> Path:
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return p


def test_load_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path, {"years": {"2030": {"holidays": ["2030-01-02"], "makeup_workdays": ["2030-01-05"]}}})
    monkeypatch.setenv("PORTAL_HOLIDAYS_FILE", str(p))
    c = WorkCalendar.load()
    assert c.source == str(p)
    assert not c.is_working_day(date(2030, 1, 2))  # Wednesday holiday
    assert c.is_working_day(date(2030, 1, 5))  # Saturday make-up
    assert c.covers(date(2030, 6, 1)) and not c.covers(date(2026, 6, 1))
    assert c.is_working_day(date(2026, 10, 1))  # this file knows nothing of 2026


def test_load_default_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_HOLIDAYS_FILE", raising=False)
    c = WorkCalendar.load()
    assert Path(c.source) == DEFAULT_FILE
    assert not c.is_working_day(date(2026, 10, 1))


def test_from_dict_is_custom() -> None:
    c = WorkCalendar.from_dict({"years": {"2026": {"holidays": ["2026-10-01"]}}})
    assert c.source == "custom"
    assert c.holidays == frozenset({date(2026, 10, 1)}) and c.makeup_workdays == frozenset()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        {"no_years": {}},
        {"years": {"2026": {"holidays": ["2026-13-01"]}}},
        {"years": {"2026": {"holidays": "2026-10-01"}}},
        {"years": {"2026": {"holidays": ["2027-01-01"]}}},
        {"years": {"twenty": {"holidays": []}}},
        {"years": {"2026": {"holidays": ["2026-10-10"], "makeup_workdays": ["2026-10-10"]}}},
        [1, 2],
    ],
)
def test_malformed_file_names_the_file(tmp_path: Path, content: object) -> None:
    p = write(tmp_path, content, "broken-holidays.json")
    with pytest.raises(ValueError) as info:
        WorkCalendar.load(p)
    msg = str(info.value)
    assert "broken-holidays.json" in msg and "格式错误" in msg and "malformed" in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.json"):
        WorkCalendar.load(tmp_path / "absent.json")


_CAL = WorkCalendar.load(DEFAULT_FILE)


@settings(max_examples=300, deadline=None)
@given(d=st.dates(date(2024, 12, 1), date(2027, 12, 31)), n=st.integers(1, 80))
def test_property_add_working_days_roundtrip(d: date, n: int) -> None:
    end = _CAL.add_working_days(d, n)
    assert _CAL.is_working_day(end)
    assert _CAL.working_days_between(d, end) == n
    assert _CAL.working_days_between(end, d) == -n
    assert _CAL.add_working_days(d, n - 1) < end


@settings(max_examples=200, deadline=None)
@given(d=st.dates(date(2024, 12, 1), date(2027, 12, 31)), n=st.integers(0, 90))
def test_property_calendar_period(d: date, n: int) -> None:
    due = _CAL.add_days(d, n)
    assert _CAL.is_working_day(due) and due >= d + timedelta(days=n)
    # every day between the nominal end and the due date is a rest day
    assert all(not _CAL.is_working_day(d + timedelta(days=k)) for k in range(n, (due - d).days))
