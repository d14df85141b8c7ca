"""The public transparency page: aggregate figures and published typical cases.

Why these rules (docs/oversight.md):
* figures cover 1 January to *yesterday* (CST) and are cached, so filing a report and reloading
  the page never shows it appear — the page cannot be used to probe whether a report exists;
* any count below the small-cell threshold (default 5, ``PORTAL_PUBLIC_MIN_CELL``) is shown as
  "<5", and small towns are merged into one "其他乡镇" line that itself holds at least two towns and
  at least the threshold, so no suppressed town can be recovered by subtracting from the total;
* typical cases are free text the coordinating office wrote for publication and published
  explicitly; they are not linked to any report and are checked for report numbers, phone and ID
  numbers before they are saved.
"""

from __future__ import annotations

import os
import re
import threading
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.chain import record
from cases.desk import StaffContext
from cases.states import CaseError, Forbidden
from models import TypicalCase
from models.base import utcnow
from oversight import stats


def min_cell() -> int:
    return max(2, int(os.environ.get("PORTAL_PUBLIC_MIN_CELL", "5")))


def cache_seconds() -> int:
    return max(0, int(os.environ.get("PORTAL_PUBLIC_CACHE_S", "600")))


def shown(n: int, threshold: int) -> str:
    """A count as the public sees it: exact from the threshold up, else "<threshold" (0 stays 0:
    nobody can be identified by there being no report)."""
    return str(n) if n == 0 or n >= threshold else f"<{threshold}"


@dataclass
class PublicFigures:
    year: int
    as_of: date
    received: int
    accepted: int
    confirmed: int
    signed_off: int
    rewards_paid: int
    reward_amount_yuan: int
    towns: list[tuple[str, int]]  # (town name or the merged line, count), suppressed in display

    def display(self, threshold: int) -> dict[str, Any]:
        rate = (f"{self.signed_off / self.confirmed:.0%}" if self.confirmed >= threshold else "—")
        return {"year": self.year, "as_of": self.as_of, "received": shown(self.received, threshold),
                "accepted": shown(self.accepted, threshold), "confirmed": shown(self.confirmed, threshold),
                "signed_off": shown(self.signed_off, threshold), "rate": rate,
                "rewards_paid": shown(self.rewards_paid, threshold),
                "reward_amount": self.reward_amount_yuan if self.rewards_paid >= threshold else None,
                "towns": [(name, shown(n, threshold)) for name, n in self.towns]}


OTHER_TOWNS = "其他乡镇（街道）及未填写"


def merge_small(counts: dict[str, int], unknown: int, threshold: int) -> list[tuple[str, int]]:
    """Towns at or above the threshold keep their line; the rest (and reports without a town) go
    into one line, grown with the smallest shown towns until it holds at least the threshold and,
    when it holds any small town, two or more towns — otherwise total − shown towns would give a
    small town's exact count."""
    big = sorted(((n, t) for t, n in counts.items() if n >= threshold), reverse=True)
    small = [t for t, n in counts.items() if n < threshold]
    other = sum(counts[t] for t in small) + unknown
    has_small = bool(small)
    while big and ((has_small and len(small) < 2) or 0 < other < threshold):
        n, t = big.pop()
        small.append(t)
        other += n
    out = [(t, n) for n, t in big]
    if small or unknown:
        out.append((OTHER_TOWNS, other))
    return out


def compute_figures(db: Session, today: date, threshold: int | None = None) -> PublicFigures:
    """This year's figures up to yesterday, as stored (no cache)."""
    threshold = threshold or min_cell()
    as_of = today - timedelta(days=1)
    start = date(as_of.year, 1, 1)
    f = stats.StatsFilter(start, as_of)
    dash = stats.fast_compute(db, f, today, dims=("town",))
    from intake.reference import load_reference

    names = load_reference().towns
    counts = {names.get(k, k): v["received"] for k, v in dash.breakdowns["town"] if k is not None}
    unknown = sum(v["received"] for k, v in dash.breakdowns["town"] if k is None)
    rewards = dash.rewards
    t = dash.total
    return PublicFigures(as_of.year, as_of, t["received"], t["accepted"], t["confirmed"], t["signed_off"],
                         rewards["paid"], rewards["amount_yuan"], merge_small(counts, unknown, threshold))


_cache: dict[tuple[date, int], tuple[float, PublicFigures]] = {}
_lock = threading.Lock()


def cached_figures(db: Session, today: date) -> PublicFigures:
    """At most one computation per ``PORTAL_PUBLIC_CACHE_S`` seconds per worker (and the data
    stop at yesterday anyway)."""
    key = (today, min_cell())
    now = _time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
    value = compute_figures(db, today, key[1])
    with _lock:
        _cache.clear()
        _cache[key] = (now + cache_seconds(), value)
    return value


def published(db: Session, limit: int = 20) -> list[TypicalCase]:
    return list(db.scalars(select(TypicalCase).where(TypicalCase.status == "published")
                           .order_by(TypicalCase.published_at.desc(), TypicalCase.id.desc()).limit(limit)))


@dataclass(frozen=True)
class PublicCase:
    title: str
    body: str
    sector: str | None
    published_on: date


_cases_cache: list[tuple[float, list[PublicCase]]] = []


def cached_cases(db: Session) -> list[PublicCase]:
    """Published cases, detached from the session (cached like the figures; publishing clears it)."""
    now = _time.monotonic()
    with _lock:
        if _cases_cache and _cases_cache[0][0] > now:
            return _cases_cache[0][1]
    from cases.calendar import today_cst

    value = [PublicCase(c.title, c.body, c.sector, today_cst(c.published_at)) for c in published(db)]
    with _lock:
        _cases_cache[:] = [(now + cache_seconds(), value)]
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _cases_cache.clear()


# --- typical cases (coordinating office only) ---------------------------------------------------

_PERSONAL = [
    (re.compile(r"AQ\d{8}-[0-9A-Z]{8}", re.I), "请不要写入举报编号：典型案例不能与具体举报对应。"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "请删除手机号码：典型案例不得包含个人信息。"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "请删除身份证号码：典型案例不得包含个人信息。"),
    (re.compile(r"举报人"), "请不要描述举报人：典型案例只写隐患、处理和警示。"),
]


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not 4 <= len(title) <= 80:
        raise CaseError("标题应为4至80个字。", "title")
    if not 20 <= len(body) <= 5000:
        raise CaseError("正文应为20至5000个字。", "body")
    for text, field in ((title, "title"), (body, "body")):
        for pattern, message in _PERSONAL:
            if pattern.search(text):
                raise CaseError(message, field)
    return title, body


def _require(staff: StaffContext) -> None:
    if not staff.is_coordinator:
        raise Forbidden("只有区安委会办公室可以编写和发布典型案例。")


def create_case(db: Session, audit_key: bytes, staff: StaffContext, title: str, body: str,
                sector: str | None, now: datetime | None = None) -> TypicalCase:
    _require(staff)
    title, body = _clean(title, body)
    row = TypicalCase(title=title, body=body, sector=sector or None, status="draft", created_by=staff.user_id,
                      created_at=now or utcnow())
    db.add(row)
    db.flush()
    record(db, audit_key, actor=staff.actor(), action="typical_case_create", target_type="typical_case",
           target_id=str(row.id), details={"chars": len(body)}, at=row.created_at)
    return row


def set_published(db: Session, audit_key: bytes, staff: StaffContext, case_id: int, publish: bool,
                  now: datetime | None = None) -> TypicalCase:
    _require(staff)
    row = db.get(TypicalCase, case_id)
    if row is None:
        raise CaseError("没有这条典型案例。")
    now = now or utcnow()
    row.status = "published" if publish else "draft"
    row.published_at = now if publish else None
    row.published_by = staff.user_id if publish else None
    record(db, audit_key, actor=staff.actor(), action="typical_case_publish" if publish else "typical_case_unpublish",
           target_type="typical_case", target_id=str(row.id), at=now)
    return row
