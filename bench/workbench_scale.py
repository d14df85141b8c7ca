"""Workbench queue latency with a million reports in PostgreSQL (issue: "a queue page ≤ 100 ms").

What it does:

1. creates a fresh database ``aqjb_bench_<random>`` on the server named by ``--admin-url`` (or
   uses ``--database-url``, which must be empty), runs the Alembic migrations (``portal.migrate``)
   and ``portal.provisioning.init_instance`` on a temporary data dir, so the departments, their
   keys and the instance MAC key are real;
2. bulk-loads N synthetic reports with ``COPY … FROM STDIN`` into ``report`` (text format),
   ``case_record`` (text) and ``search_term`` (binary, built with numpy). Secondary indexes,
   unique constraints, foreign keys and the ``search_term`` primary key are dropped for the load
   and recreated afterwards from their own catalog definitions (the script checks that the schema
   afterwards is identical to the one Alembic made), then ``VACUUM (ANALYZE)`` — what autovacuum
   would have done on a production table;
3. times the real ``cases.queue.queue()`` and ``cases.queue.counts()`` through a real SQLAlchemy
   session (``portal.db``), warm, ``--repeat`` times each, for a handler of a big department, the
   coordinating office and an auditor, and prints p50 / p95 / max against the 100 ms target.

The data are synthetic but shaped like a district's: departments skewed (fire and emergency
largest), ~15 % open (recent reports mostly open), urgency 3 / 15 / 55 / 27 % critical / high /
medium / low, open deadlines spread over ±60 days with ~8 % overdue, ~1 % supervised, towns from
data/towns.json, sectors from data/taxonomy.json (mostly the department's own), filed over three
years. The blind index is real: each report gets up to 6 text terms drawn from a Zipf vocabulary
of the 5,000 commonest words of the training corpus (data/corpus, tokenised by
``blind_index.terms``), plus the enterprise terms (``blind_index.ordered_terms(field=
"enterprise")``) of one of ~20,000 synthetic enterprises (85 % of reports), all digested with the
instance's real index key (``blind_index.digest``), so searches go through ``apply_search``
unchanged. The sealed columns (``sealed_content``, ``sealed_identity``, ``sealed_triage``,
``case_record.sealed_summary``) hold 64–200 random bytes — NOT real encryption: the queue never
decrypts, it only carries the bytes, so only their size matters here. Certificates and digests
are dummies for the same reason.

    .venv/bin/python bench/workbench_scale.py --reports 20000          # quick run (~20 s)
    .venv/bin/python bench/workbench_scale.py                          # 1,000,000 reports (~6 min)
    .venv/bin/python bench/workbench_scale.py --reports 1000000 --explain --keep
    # then re-time with candidate index changes, applied one after the other (see docs/benchmarks.md)
    .venv/bin/python bench/workbench_scale.py --try-index desc --try-index include --try-index escalated

Exit status 0 whatever the timings (it is a benchmark); 2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_MS = 100.0
DEFAULT_ADMIN_URL = os.environ.get("PORTAL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as intake.service.new_report_number
CHUNK = 50_000  # reports per generated COPY chunk
LOADED_TABLES = ("report", "case_record", "search_term")

# ---------------------------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------------------------

DEPARTMENT_WEIGHTS: dict[str, float] = {
    "fire": 0.22, "emergency": 0.20, "housing": 0.12, "traffic_police": 0.07, "transport": 0.07,
    "market": 0.06, "natural_resources": 0.04, "culture_tourism": 0.03, "education": 0.03,
    "health": 0.03, "agriculture": 0.03, "forestry": 0.03, "civil_affairs": 0.02, "water": 0.02,
    "coordination": 0.03,  # unroutable reports waiting for the coordinating office
}
URGENCIES = ("critical", "high", "medium", "low")  # rank 0..3
URGENCY_P = (0.03, 0.15, 0.55, 0.27)
URGENCY_SCORE = ((85, 101), (65, 85), (35, 65), (0, 35))
REPORT_TYPES = ("major_hazard", "general_hazard", "illegal_operation", "concealed_accident", "out_of_scope")
REPORT_TYPE_P = (0.18, 0.45, 0.25, 0.04, 0.08)
OPEN_STATUS = ("received", "accepted", "checking", "checked", "rectifying", "signed_off", "rechecking")
OPEN_STATUS_P = (0.25, 0.10, 0.35, 0.08, 0.15, 0.04, 0.03)
CLOSED_STATUS = ("closed", "not_accepted", "merged")
CLOSED_STATUS_P = (0.80, 0.15, 0.05)
NOT_ACCEPTED = ("already_accepted", "no_clear_facts", "not_safety", "other_procedure")
OPEN_SHARE = 0.15
RECENT_DAYS = 120  # reports younger than this are mostly still open
RECENT_OPEN_P = 0.85
OVERDUE_SHARE = 0.08  # of open reports
SUPERVISED_OPEN_P = 0.04
SUPERVISED_CLOSED_P = 0.0047  # → ~1 % overall
SPAN_DAYS = 3 * 365
TEXT_TERMS = 6
VOCABULARY = 5_000
ZIPF_S = 1.0
ENTERPRISES = 20_000
ENTERPRISE_SHARE = 0.85

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "hazardous_chemicals": ("化工", "化学", "加油站", "气体", "石化", "危险品储运"),
    "coal_mine": ("煤矿", "煤业"),
    "non_coal_mine": ("矿业", "石料", "采石场", "尾矿库"),
    "industry_trade": ("机械", "建材", "铸造", "纺织", "食品", "木业", "冶金", "家具", "钢铁", "陶瓷", "粉末涂料"),
    "fireworks": ("烟花爆竹", "鞭炮"),
    "fire_safety": ("商贸", "宾馆", "酒店", "超市", "网吧", "餐饮", "物业", "服装", "电动车"),
    "construction": ("建筑工程", "建设", "路桥", "房地产开发", "装饰工程"),
    "gas": ("燃气", "液化气", "天然气"),
    "self_built_housing": ("置业", "房屋租赁"),
    "road_traffic": ("驾校", "汽车服务", "货运"),
    "road_transport": ("运输", "物流", "客运"),
    "waterway": ("航运", "船舶"),
    "illegal_mining": ("砂石", "石料"),
    "special_equipment": ("电梯", "起重机械", "锅炉"),
    "culture_tourism": ("文化旅游", "游乐", "景区"),
    "school": ("学校", "幼儿园", "培训学校"),
    "medical": ("医院", "诊所"),
    "elderly_care": ("养老院", "敬老院"),
    "fishing_vessel": ("渔业", "水产"),
    "farm_machinery": ("农机", "农业"),
    "water_works": ("水利工程", "供水"),
    "forest_fire": ("林场", "林业"),
}
BRAND_FIRST = "宏鑫恒金永华盛兴福瑞天顺昌隆源达泰丰安康和佳利通德嘉祥宇辉豫明新东中长远聚信正博"
BRAND_SECOND = "达源通昌盛发兴泰丰利隆鑫华宇祥瑞辉洋峰阳星光诚信安益威力科贸鼎晟旺运"
PLACE_PREFIXES = ("许昌", "建安区", "河南", "长葛", "禹州", "鄢陵", "襄城", "")
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "厂", "经营部", "")
SUFFIX_P = (0.45, 0.15, 0.05, 0.10, 0.05, 0.20)


def zipf_cdf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return np.cumsum(w) / w.sum()


def draw(rng: np.random.Generator, cdf: np.ndarray, size: Any) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


# ---------------------------------------------------------------------------------------------
# database set-up
# ---------------------------------------------------------------------------------------------


def sa_url(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql+psycopg")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Schema:
    """What the load drops and puts back, taken from the catalogs (so it always matches Alembic)."""

    constraints: list[tuple[str, str, str, str]]  # (table, name, type, definition)
    indexes: list[tuple[str, str, str]]  # (table, name, CREATE INDEX …)

    @classmethod
    def read(cls, conn: Any, tables: tuple[str, ...]) -> "Schema":
        cons = conn.execute(
            """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('p','u','f')
               ORDER BY 1, 2""", (list(tables),)).fetchall()
        idx = conn.execute(
            """SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p','u'))
               ORDER BY 1, 2""", (list(tables),)).fetchall()
        return cls([tuple(r) for r in cons], [tuple(r) for r in idx])  # type: ignore[misc]

    def signature(self) -> set[tuple[str, ...]]:
        """What must be identical after the load. A partial index's WHERE clause is compared for
        presence only: PostgreSQL deparses ``x IN ('a', 'b')`` differently once recreated from its
        own deparsed text (ANY(ARRAY[...]::text[]) vs ANY(ARRAY[...::text])), the same predicate."""
        def index(i: tuple[str, str, str]) -> tuple[str, ...]:
            head, where, _ = i[2].partition(" WHERE ")
            return (i[0], i[1], head, where)
        return {tuple(c) for c in self.constraints} | {index(i) for i in self.indexes}

    def droppable(self) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]]]:
        """Everything but the primary keys of ``report`` and ``case_record`` (ids arrive in order,
        and other tables' foreign keys need ``report``'s)."""
        cons = [c for c in self.constraints if not (c[2] == "p" and c[0] in ("report", "case_record"))]
        return cons, list(self.indexes)


def drop_for_load(conn: Any, schema: Schema) -> None:
    cons, idx = schema.droppable()
    for table, name, kind, _ in sorted(cons, key=lambda c: c[2] != "f"):  # foreign keys first
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for _table, name, _ in idx:
        conn.execute(f'DROP INDEX "{name}"')


def restore_after_load(conn: Any, schema: Schema, timings: dict[str, float]) -> None:
    cons, idx = schema.droppable()
    conn.execute("SET maintenance_work_mem = '1GB'")  # this session only: faster index builds
    t0 = time.perf_counter()
    for table, name, kind, definition in cons:
        if kind in ("p", "u"):
            conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _table, _name, ddl in idx:
        conn.execute(ddl)
    timings["indexes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for table, name, kind, definition in cons:
        if kind == "f":
            conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    timings["foreign keys"] = time.perf_counter() - t0


def columns(conn: Any, table: str) -> dict[str, tuple[bool, bool]]:
    """column → (nullable, has default)."""
    rows = conn.execute(
        "SELECT column_name, is_nullable = 'YES', column_default IS NOT NULL FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def check_covered(conn: Any, table: str, provided: list[str]) -> None:
    cols = columns(conn, table)
    unknown = [c for c in provided if c not in cols]
    missing = [c for c, (nullable, has_default) in cols.items() if c not in provided and not nullable and not has_default]
    if unknown or missing:
        raise SystemExit(f"schema changed: {table} unknown columns {unknown}, NOT NULL columns not generated {missing}; "
                         f"update bench/workbench_scale.py")


# ---------------------------------------------------------------------------------------------
# synthetic data
# ---------------------------------------------------------------------------------------------


def build_vocabulary(size: int) -> tuple[list[str], Counter[str]]:
    """The ``size`` words with the highest document frequency in the triage corpus, as the blind
    index tokenises them (search mode, stopwords removed)."""
    from secure_store import blind_index

    df: Counter[str] = Counter()
    for path in sorted((REPO / "data" / "corpus").glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    df.update(t.split(":", 1)[1] for t in blind_index.terms(json.loads(line)["text"], field="text"))
    words = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))][:size]
    return words, df


def build_enterprises(rng: np.random.Generator, n: int, towns: list[str]) -> tuple[list[str], list[str]]:
    """``n`` unique plausible enterprise names and the sector each belongs to."""
    sectors = list(INDUSTRY_WORDS)
    prefixes = list(PLACE_PREFIXES) + [re.sub(r"(街道|镇|乡)$", "", t) for t in towns]
    names: dict[str, str] = {}
    while len(names) < n:
        sector = sectors[int(rng.integers(len(sectors)))]
        brand = BRAND_FIRST[int(rng.integers(len(BRAND_FIRST)))] + BRAND_SECOND[int(rng.integers(len(BRAND_SECOND)))]
        if brand[0] == brand[1]:
            continue
        industry = INDUSTRY_WORDS[sector][int(rng.integers(len(INDUSTRY_WORDS[sector])))]
        suffix = SUFFIXES[int(rng.choice(len(SUFFIXES), p=SUFFIX_P))]
        prefix = prefixes[int(rng.integers(len(prefixes)))]
        names.setdefault(f"{prefix}{brand}{industry}{suffix}", sector)
    return list(names), list(names.values())


@dataclass
class Synthetic:
    """Per-report numeric arrays for the whole load (cheap), formatted chunk by chunk."""

    n: int
    now: datetime
    today: date
    ids: np.ndarray
    filed_us: np.ndarray  # datetime64[us], UTC, ascending with id
    dept: np.ndarray  # index into dept_codes
    sector: np.ndarray  # index into sector_codes, -1 none
    town: np.ndarray  # index into town_codes, -1 none
    urgency: np.ndarray  # rank 0..3
    score: np.ndarray
    rtype: np.ndarray
    is_open: np.ndarray
    status: np.ndarray  # index into STATUSES
    due_days: np.ndarray  # days from today (open only)
    supervised: np.ndarray
    anonymous: np.ndarray
    internal: np.ndarray
    api: np.ndarray
    needs_review: np.ndarray
    confidence: np.ndarray
    primary: np.ndarray  # 0 none
    epoch: np.ndarray
    enterprise: np.ndarray  # -1 none
    escalation: np.ndarray
    transfers: np.ndarray
    dept_codes: list[str]
    dept_ids: list[int]
    sector_codes: list[str]
    town_codes: list[str]
    enterprise_names: list[str]
    sector_of_enterprise: list[str]
    numbers: list[str] = field(default_factory=list)


STATUSES = OPEN_STATUS + CLOSED_STATUS


def synthesise(rng: np.random.Generator, n: int, now: datetime, today: date, departments: dict[str, int],
               enterprise_count: int) -> Synthetic:
    from intake.reference import load_reference

    ref = load_reference()
    dept_codes = [c for c in DEPARTMENT_WEIGHTS if c in departments]
    dept_ids = [departments[c] for c in dept_codes]
    w = np.array([DEPARTMENT_WEIGHTS[c] for c in dept_codes])
    sector_codes = list(ref.sectors)
    town_codes = list(ref.towns)
    ids = np.arange(1, n + 1, dtype=np.int64)

    span_us = SPAN_DAYS * 86_400 * 1_000_000
    now_us = np.datetime64(now.replace(tzinfo=None), "us")
    offsets = np.sort(rng.integers(0, span_us, n))  # ascending ids are filed later
    filed_us = now_us - np.timedelta64(span_us, "us") + offsets.astype("timedelta64[us]")
    age_days = ((now_us - filed_us) / np.timedelta64(1, "D")).astype(np.int64)

    dept = rng.choice(len(dept_codes), size=n, p=w / w.sum())
    # sector: 92 % one of the department's own sectors (Zipf within it), 8 % anything (misrouted,
    # transferred); the coordinating office's reports are anything or none
    sector = np.full(n, -1, dtype=np.int64)
    for d, code in enumerate(dept_codes):
        rows = np.flatnonzero(dept == d)
        own = [i for i, s in enumerate(sector_codes) if ref.sector_department[s] == code]
        if own:
            picks = np.array(own)[draw(rng, zipf_cdf(len(own), 1.0), len(rows))]
            stray = rng.random(len(rows)) < 0.08
            picks[stray] = rng.integers(0, len(sector_codes), int(stray.sum()))
        else:
            picks = np.where(rng.random(len(rows)) < 0.5, rng.integers(0, len(sector_codes), len(rows)), -1)
        sector[rows] = picks
    town = draw(rng, zipf_cdf(len(town_codes), 0.6), n)
    town[rng.random(n) < 0.03] = -1
    urgency = rng.choice(4, size=n, p=URGENCY_P)
    lo = np.array([a for a, _ in URGENCY_SCORE])[urgency]
    hi = np.array([b for _, b in URGENCY_SCORE])[urgency]
    score = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    rtype = rng.choice(len(REPORT_TYPES), size=n, p=REPORT_TYPE_P)

    recent = age_days < RECENT_DAYS
    p_old = max(0.0, (OPEN_SHARE * n - RECENT_OPEN_P * recent.sum()) / max(1, (~recent).sum()))
    is_open = rng.random(n) < np.where(recent, RECENT_OPEN_P, p_old)
    status = np.where(is_open, rng.choice(len(OPEN_STATUS), size=n, p=OPEN_STATUS_P),
                      len(OPEN_STATUS) + rng.choice(len(CLOSED_STATUS), size=n, p=CLOSED_STATUS_P))
    merged = status == STATUSES.index("merged")
    merged[0] = False
    status[0] = STATUSES.index("closed") if not is_open[0] else status[0]
    primary = np.zeros(n, dtype=np.int64)
    primary[merged] = (rng.random(int(merged.sum())) * (ids[merged] - 1)).astype(np.int64) + 1
    overdue = rng.random(n) < OVERDUE_SHARE
    due_days = np.where(overdue, -rng.integers(1, 61, n), rng.integers(0, 61, n))
    supervised = rng.random(n) < np.where(is_open, SUPERVISED_OPEN_P, SUPERVISED_CLOSED_P)
    escalation = np.where(is_open & overdue, rng.choice(3, size=n, p=(0.4, 0.35, 0.25)), 0)

    names, ent_sector = build_enterprises(rng, enterprise_count, [ref.towns[t] for t in town_codes])
    enterprise = np.full(n, -1, dtype=np.int64)
    by_sector: dict[str, list[int]] = {}
    for i, s in enumerate(ent_sector):
        by_sector.setdefault(s, []).append(i)
    for si, code in enumerate(sector_codes):
        rows = np.flatnonzero(sector == si)
        pool = by_sector.get(code) or list(range(len(names)))
        enterprise[rows] = np.array(pool)[draw(rng, zipf_cdf(len(pool), 0.8), len(rows))]
    rows = np.flatnonzero(sector == -1)
    enterprise[rows] = rng.integers(0, len(names), len(rows))
    enterprise[rng.random(n) >= ENTERPRISE_SHARE] = -1

    return Synthetic(
        n=n, now=now, today=today, ids=ids, filed_us=filed_us, dept=dept, sector=sector, town=town,
        urgency=urgency, score=score, rtype=rtype, is_open=is_open, status=status, due_days=due_days,
        supervised=supervised, anonymous=rng.random(n) < 0.7, internal=rng.random(n) < 0.05,
        api=rng.random(n) < 0.1, needs_review=rng.random(n) < 0.12,
        confidence=np.round(0.3 + 0.7 * rng.random(n), 3), primary=primary,
        epoch=(rng.random(n) < 0.05).astype(np.int64), enterprise=enterprise, escalation=escalation,
        transfers=(rng.random(n) < 0.05).astype(np.int64), dept_codes=dept_codes, dept_ids=dept_ids,
        sector_codes=sector_codes, town_codes=town_codes, enterprise_names=names, sector_of_enterprise=ent_sector,
    )


def report_numbers(rng: np.random.Generator, syn: Synthetic) -> list[str]:
    """AQ<CST date>-<8 Crockford chars>, unique."""
    vals = rng.integers(0, 32 ** 8, syn.n, dtype=np.int64)
    while True:
        _, first = np.unique(vals, return_index=True)
        dup = np.ones(syn.n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        vals[dup] = rng.integers(0, 32 ** 8, int(dup.sum()), dtype=np.int64)
    digits = (vals[:, None] >> (5 * np.arange(7, -1, -1))) & 31
    rand = np.ascontiguousarray(np.array(list(CROCKFORD))[digits]).view("<U8").ravel()
    cst = np.datetime_as_string((syn.filed_us + np.timedelta64(8, "h")).astype("datetime64[D]"))
    return [f"AQ{d[0:4]}{d[5:7]}{d[8:10]}-{r}" for d, r in zip(cst.tolist(), rand.tolist())]


NULL = "\\N"


def _hex_blobs(rng: np.random.Generator, lengths: np.ndarray) -> list[str]:
    blob = rng.bytes(int(lengths.sum())).hex()
    ends = np.cumsum(lengths) * 2
    starts = ends - lengths * 2
    return ["\\\\x" + blob[s:e] for s, e in zip(starts.tolist(), ends.tolist())]


def _ts(arr: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(arr, unit="s"), "+00")


def _bool(arr: np.ndarray) -> list[str]:
    return np.where(arr, "t", "f").tolist()


def _opt(values: np.ndarray, present: np.ndarray) -> list[str]:
    return np.where(present, values, NULL).tolist()


def report_chunk(rng: np.random.Generator, syn: Synthetic, lo: int, hi: int) -> tuple[list[str], bytes]:
    s = slice(lo, hi)
    m = hi - lo
    sector_arr = np.array(syn.sector_codes + [NULL], dtype=object)
    town_arr = np.array(syn.town_codes + [NULL], dtype=object)
    dept_code_arr = np.array(syn.dept_codes, dtype=object)
    today64 = np.datetime64(syn.today, "D")
    due = (today64 + syn.due_days[s].astype("timedelta64[D]")).astype(str)
    anonymous = syn.anonymous[s]
    cols: dict[str, list[str]] = {
        "id": syn.ids[s].astype(str).tolist(),
        "number": syn.numbers[lo:hi],
        "receipt_locator": _hex_blobs(rng, np.full(m, 32)),
        "filed_at": _ts(syn.filed_us[s]).tolist(),
        "channel": np.where(syn.api[s], "api", "web").tolist(),
        "status": np.array(STATUSES, dtype=object)[syn.status[s]].tolist(),
        "department_id": np.array(syn.dept_ids)[syn.dept[s]].astype(str).tolist(),
        "town_code": town_arr[syn.town[s]].tolist(),
        "anonymous": _bool(anonymous),
        "internal": _bool(syn.internal[s]),
        "triage_department": dept_code_arr[syn.dept[s]].tolist(),
        "triage_confidence": syn.confidence[s].astype(str).tolist(),
        "needs_review": _bool(syn.needs_review[s]),
        "sector": sector_arr[syn.sector[s]].tolist(),
        "report_type": np.array(REPORT_TYPES, dtype=object)[syn.rtype[s]].tolist(),
        "urgency": np.array(URGENCIES, dtype=object)[syn.urgency[s]].tolist(),
        "urgency_score": syn.score[s].astype(str).tolist(),
        "urgency_rank": syn.urgency[s].astype(str).tolist(),
        "is_open": _bool(syn.is_open[s]),
        "due_on": _opt(due, syn.is_open[s]),
        "supervised": _bool(syn.supervised[s]),
        "primary_report_id": _opt(syn.primary[s].astype(str), syn.primary[s] > 0),
        "key_epoch": syn.epoch[s].astype(str).tolist(),
        "reporter_public_key": [NULL if a else b for a, b in zip(anonymous.tolist(), _hex_blobs(rng, np.full(m, 32)))],
        "triage_model": ["synthetic-bench"] * m,
        "sealed_content": _hex_blobs(rng, rng.integers(64, 201, m)),
        "sealed_identity": [NULL if a else b for a, b in zip(anonymous.tolist(), _hex_blobs(rng, rng.integers(64, 201, m)))],
        "sealed_triage": _hex_blobs(rng, rng.integers(64, 201, m)),
        "content_sha256": [h[3:] for h in _hex_blobs(rng, np.full(m, 32))],
        "certificate_signature": ["synthetic-" + h[3:] for h in _hex_blobs(rng, np.full(m, 32))],
        "certificate_key_id": ["bench00000000000"] * m,
    }
    names = list(cols)
    text = "\n".join("\t".join(row) for row in zip(*cols.values())) + "\n"
    return names, text.encode("utf-8")


def case_chunk(rng: np.random.Generator, syn: Synthetic, lo: int, hi: int) -> tuple[list[str], bytes]:
    s = slice(lo, hi)
    m = hi - lo
    st = syn.status[s]
    code = np.array(STATUSES)[st]
    filed = syn.filed_us[s]
    filed_day = filed.astype("datetime64[D]")
    past_received = ~np.isin(code, ("received", "not_accepted", "merged"))
    checked = np.isin(code, ("checked", "rectifying", "signed_off", "rechecking", "closed"))
    accepted_at = filed + np.timedelta64(2, "D")
    check_started = filed + np.timedelta64(3, "D")
    checked_at = filed + np.timedelta64(40, "D")
    today64 = np.datetime64(syn.today, "D")
    due_today = (today64 + syn.due_days[s].astype("timedelta64[D]")).astype(str)
    ent = syn.enterprise[s]
    ent_names = np.array(syn.enterprise_names + [NULL], dtype=object)[np.where(ent >= 0, ent, len(syn.enterprise_names))]
    sealed_summary = _hex_blobs(rng, rng.integers(64, 201, m))
    cols: dict[str, list[str]] = {
        "report_id": syn.ids[s].astype(str).tolist(),
        "screen_due": np.where(code == "received", due_today, (filed_day + np.timedelta64(7, "D")).astype(str)).tolist(),
        "accepted_at": _opt(_ts(accepted_at), past_received),
        "not_accepted_reason": _opt(np.array(NOT_ACCEPTED)[rng.integers(0, len(NOT_ACCEPTED), m)], code == "not_accepted"),
        "check_started_at": _opt(_ts(check_started), past_received & (code != "accepted")),
        "check_due": _opt(np.where(np.isin(code, ("accepted", "checking")), due_today,
                                   (check_started.astype("datetime64[D]") + np.timedelta64(60, "D")).astype(str)), past_received),
        "extension_days": np.where(rng.random(m) < 0.05, "30", "0").tolist(),
        "checked_at": _opt(_ts(checked_at), checked),
        "conclusion": _opt(np.array(("confirmed", "partly", "unfounded"))[rng.choice(3, size=m, p=(0.5, 0.25, 0.25))], checked),
        "sealed_summary": [b if c else NULL for b, c in zip(sealed_summary, checked.tolist())],
        "summary_epoch": ["0"] * m,
        "hazard_level": _opt(np.array(("major", "general", "none"))[rng.choice(3, size=m, p=(0.1, 0.6, 0.3))], checked),
        "enterprise_name": [e if c else NULL for e, c in zip(ent_names.tolist(), checked.tolist())],
        "reply_due": _opt((checked_at.astype("datetime64[D]") + np.timedelta64(10, "D")).astype(str), checked),
        "rectification_due": _opt(due_today, code == "rectifying"),
        "recheck_due": _opt(due_today, code == "rechecking"),
        "rechecks": np.where(code == "rechecking", "1", "0").tolist(),
        "closed_at": _opt(_ts(filed + np.timedelta64(55, "D")), np.isin(code, ("closed", "not_accepted", "merged"))),
        "deaths_alleged": ["f"] * m,
        "self_reported": ["f"] * m,
        "assignment_final": ["f"] * m,
        "escalation": syn.escalation[s].astype(str).tolist(),
        "transfers": syn.transfers[s].astype(str).tolist(),
    }
    names = list(cols)
    text = "\n".join("\t".join(row) for row in zip(*cols.values())) + "\n"
    return names, text.encode("utf-8")


TERM_DTYPE = np.dtype([("n", ">i2"), ("l1", ">i4"), ("term", "V16"), ("l2", ">i4"), ("rid", ">i4")])
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
PGCOPY_TRAILER = struct.pack(">h", -1)


@dataclass
class TermTable:
    digests: np.ndarray  # V16, text words first, then enterprise terms
    vocab: list[str]
    text_cdf: np.ndarray
    ent_offsets: np.ndarray
    ent_counts: np.ndarray
    ent_flat: np.ndarray  # indices into digests


def build_terms(key: bytes, vocab: list[str], enterprise_names: list[str]) -> TermTable:
    from secure_store import blind_index

    ent_terms = [blind_index.ordered_terms(name, field="enterprise") for name in enterprise_names]
    table: dict[str, int] = {}
    for w in vocab:
        table.setdefault(f"text:{w}", len(table))
    flat: list[int] = []
    counts: list[int] = []
    for terms in ent_terms:
        for t in terms:
            flat.append(table.setdefault(t, len(table)))
        counts.append(len(terms))
    digests = np.frombuffer(b"".join(blind_index.digest(key, t) for t in table), dtype="V16")
    counts_arr = np.array(counts, dtype=np.int64)
    return TermTable(digests, vocab, zipf_cdf(len(vocab), ZIPF_S),
                     np.cumsum(counts_arr) - counts_arr, counts_arr, np.array(flat, dtype=np.int64))


def term_chunk(rng: np.random.Generator, syn: Synthetic, tt: TermTable, lo: int, hi: int) -> tuple[bytes, int]:
    m = hi - lo
    ids = syn.ids[lo:hi]
    words = np.sort(draw(rng, tt.text_cdf, (m, TEXT_TERMS)), axis=1)
    keep = np.ones_like(words, dtype=bool)
    keep[:, 1:] = words[:, 1:] != words[:, :-1]  # a report holds each term once
    t_rid = np.repeat(ids, TEXT_TERMS).reshape(m, TEXT_TERMS)[keep]
    t_term = words[keep]
    ent = syn.enterprise[lo:hi]
    has = ent >= 0
    counts = tt.ent_counts[ent[has]]
    starts = tt.ent_offsets[ent[has]]
    total = int(counts.sum())
    pos = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    e_rid = np.repeat(ids[has], counts)
    e_term = tt.ent_flat[pos]
    rid = np.concatenate([t_rid, e_rid])
    term = np.concatenate([t_term, e_term])
    order = np.argsort(rid, kind="stable")  # filed together, so stored together
    rec = np.empty(len(rid), dtype=TERM_DTYPE)
    rec["n"] = 2
    rec["l1"] = 16
    rec["term"] = tt.digests[term[order]]
    rec["l2"] = 4
    rec["rid"] = rid[order]
    return rec.tobytes(), len(rec)


def load(conn: Any, rng: np.random.Generator, syn: Synthetic, tt: TermTable, timings: dict[str, float]) -> dict[str, int]:
    rows = {"report": 0, "case_record": 0, "search_term": 0}
    names, _ = report_chunk(rng, syn, 0, 1)
    check_covered(conn, "report", names)
    cnames, _ = case_chunk(rng, syn, 0, 1)
    check_covered(conn, "case_record", cnames)
    cur = conn.cursor()
    t0 = time.perf_counter()
    with cur.copy(f"COPY report ({', '.join(names)}) FROM STDIN") as cp:
        for lo in range(0, syn.n, CHUNK):
            hi = min(syn.n, lo + CHUNK)
            cp.write(report_chunk(rng, syn, lo, hi)[1])
            rows["report"] += hi - lo
    conn.execute("SELECT setval(pg_get_serial_sequence('report', 'id'), %s)", (syn.n,))
    timings["copy report"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with cur.copy(f"COPY case_record ({', '.join(cnames)}) FROM STDIN") as cp:
        for lo in range(0, syn.n, CHUNK):
            hi = min(syn.n, lo + CHUNK)
            cp.write(case_chunk(rng, syn, lo, hi)[1])
            rows["case_record"] += hi - lo
    timings["copy case_record"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with cur.copy("COPY search_term (term, report_id) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(PGCOPY_HEADER)
        for lo in range(0, syn.n, CHUNK * 2):
            data, k = term_chunk(rng, syn, tt, lo, min(syn.n, lo + CHUNK * 2))
            cp.write(data)
            rows["search_term"] += k
        cp.write(PGCOPY_TRAILER)
    timings["copy search_term"] = time.perf_counter() - t0
    return rows


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    run: Callable[[Any], tuple[int, int]]  # session → (rows returned, total)
    page: bool = True  # judged against the target (counts are reported separately)


@dataclass
class Result:
    case: Case
    times_ms: list[float]
    rows: int
    total: int

    def pct(self, p: float) -> float:
        xs = sorted(self.times_ms)
        return xs[max(0, math.ceil(p * len(xs)) - 1)]

    @property
    def ok(self) -> bool:
        return self.pct(0.95) <= TARGET_MS


def time_case(sessions: Any, case: Case, repeat: int, warmup: int = 2) -> Result:
    out: tuple[int, int] = (0, 0)
    times: list[float] = []
    for i in range(warmup + repeat):
        t0 = time.perf_counter()
        with sessions() as db:  # one session per request, as the web app does
            out = case.run(db)
        dt = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            times.append(dt)
    return Result(case, times, *out)


def capture_sql(engine: Any, sessions: Any, case: Case) -> list[tuple[str, Any]]:
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with sessions() as db:
            case.run(db)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def explain(engine: Any, sessions: Any, case: Case, limit: int = 2) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements the case really runs (count, then the page)."""
    stmts = capture_sql(engine, sessions, case)[:limit]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for i, (sql, params) in enumerate(stmts, 1):
            print(f"\n--- EXPLAIN {case.name} [{i}/{len(stmts)}] ---")
            print(sql.strip())
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cur.fetchall():
                print("   ", line)
        raw.rollback()
    finally:
        raw.close()


def build_cases(syn: Synthetic, db: Any, index_key: bytes, vocab: list[str], handler_dept: str) -> list[Case]:
    from sqlalchemy import select

    from cases.desk import StaffContext
    from cases.queue import QueueFilter, counts, queue
    from models import Department, SearchTerm
    from secure_store import blind_index

    depts = {d.code: d for d in db.scalars(select(Department))}
    hd = depts[handler_dept]
    coord = depts["coordination"]
    handler = StaffContext(user_id=1, username="bench-handler", role="handler", department_id=hd.id, department_code=hd.code)
    coordinator = StaffContext(user_id=2, username="bench-coordinator", role="coordinator",
                               department_id=coord.id, department_code=coord.code)
    auditor = StaffContext(user_id=3, username="bench-auditor", role="auditor", department_id=None, department_code=None)
    today = syn.today

    # filters with a realistic selectivity inside the handler's department
    d_idx = syn.dept_codes.index(handler_dept)
    mine = syn.dept == d_idx
    sec_counts = Counter(syn.sector[mine & (syn.sector >= 0)].tolist()).most_common()
    sector = syn.sector_codes[sec_counts[min(2, len(sec_counts) - 1)][0]]  # third commonest: a mid-sized one
    town_counts = Counter(syn.town[mine & (syn.town >= 0)].tolist()).most_common()
    town = syn.town_codes[town_counts[len(town_counts) // 2][0]]  # a median town
    open_rows = np.flatnonzero(mine & syn.is_open)
    number = syn.numbers[int(open_rows[len(open_rows) // 2])] if len(open_rows) else syn.numbers[0]

    def single(word: str) -> bool:
        return blind_index.query_words(word) == [word]

    singles = [w for w in vocab if single(w)]

    def pick(rank: int) -> str:
        return singles[min(rank, len(singles)) - 1]

    def share(words: str) -> str:
        ids = None
        for group in blind_index.query_digests(index_key, words):
            found = set(db.scalars(select(SearchTerm.report_id).where(SearchTerm.term.in_(group))))
            ids = found if ids is None else ids & found
        return f"{len(ids or ()) / syn.n:.1%}"

    common, tenth, mid, rare = pick(1), pick(10), pick(100), pick(2000)
    two = f"{pick(10)} {pick(200)}"
    # the enterprise most reported in the handler's department, by its name without the legal form
    ents = Counter(syn.enterprise[mine & (syn.enterprise >= 0)].tolist()).most_common(1)
    ent_name = syn.enterprise_names[ents[0][0]] if ents else syn.enterprise_names[0]
    ent_short = blind_index.compact_enterprise_names(ent_name)[-1]
    print(f"handler: {handler_dept}; sector filter {sector}; town filter {town}; enterprise {ent_name}; "
          f"number {number}; today {today}")

    def q(staff: StaffContext, **kw: Any) -> Callable[[Any], tuple[int, int]]:
        def run(session: Any) -> tuple[int, int]:
            page = queue(session, staff, QueueFilter(**kw), today, index_key)
            return len(page.rows), page.total
        return run

    def c(staff: StaffContext) -> Callable[[Any], tuple[int, int]]:
        def run(session: Any) -> tuple[int, int]:
            res = counts(session, staff, today)
            return len(res), res["open"]
        return run

    h = f"handler({handler_dept})"
    cases = [
        Case(f"{h} queue page 1", q(handler)),
        Case(f"{h} queue page 20", q(handler, page=20)),
        Case(f"{h} overdue", q(handler, overdue=True)),
        Case(f"{h} due soon", q(handler, due_soon=True)),
        Case(f"{h} supervised", q(handler, supervised=True)),
        Case(f"{h} sector={sector}", q(handler, sector=sector)),
        Case(f"{h} town={town}", q(handler, town=town)),
        Case(f"{h} urgency=critical", q(handler, urgency="critical")),
        Case(f"{h} status=all page 1", q(handler, status="all")),
        Case(f"{h} status=checking", q(handler, status="checking")),
        Case(f"{h} keyword #1 '{common}' ({share(common)} of reports)", q(handler, query=common)),
        Case(f"{h} keyword #10 '{tenth}' ({share(tenth)})", q(handler, query=tenth)),
        Case(f"{h} keyword #100 '{mid}' ({share(mid)})", q(handler, query=mid)),
        Case(f"{h} keyword #2000 '{rare}' ({share(rare)})", q(handler, query=rare)),
        Case(f"{h} two words '{two}' ({share(two)})", q(handler, query=two)),
        Case(f"{h} enterprise '{ent_short}' ({share(ent_short)})", q(handler, query=ent_short)),
        Case(f"{h} enterprise full name ({share(ent_name)})", q(handler, query=ent_name)),
        Case(f"{h} keyword #100 + status=all", q(handler, query=mid, status="all")),
        Case(f"{h} report number", q(handler, number=number)),
        Case("coordinator queue page 1", q(coordinator)),
        Case("coordinator overdue", q(coordinator, overdue=True)),
        Case("coordinator supervised", q(coordinator, supervised=True)),
        Case("coordinator department=fire", q(coordinator, department_id=depts["fire"].id)),
        Case("coordinator status=all page 1", q(coordinator, status="all")),
        Case("coordinator keyword #100", q(coordinator, query=mid)),
        Case("coordinator keyword #10", q(coordinator, query=tenth)),
        Case("auditor queue page 1", q(auditor)),
        Case("auditor overdue", q(auditor, overdue=True)),
        Case("auditor department=fire", q(auditor, department_id=depts["fire"].id)),
        Case(f"counts() {h}", c(handler), page=False),
        Case("counts() coordinator", c(coordinator), page=False),
    ]
    return cases


def print_table(results: list[Result], title: str) -> None:
    width = max(len(r.case.name) for r in results)
    print(f"\n{title}")
    print(f"{'case':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}  {'rows':>5}  {'total':>6}  result")
    print("-" * (width + 56))
    for r in results:
        verdict = ("PASS" if r.ok else "FAIL") if r.case.page else "(counts)"
        print(f"{r.case.name:<{width}}  {r.pct(0.5):8.1f}  {r.pct(0.95):8.1f}  {max(r.times_ms):8.1f}  "
              f"{r.rows:5d}  {r.total:6d}  {verdict}")


def markdown_table(results: list[Result]) -> str:
    lines = ["| case | p50 ms | p95 ms | max ms | rows | total | ≤ 100 ms |", "|---|---|---|---|---|---|---|"]
    for r in results:
        verdict = ("PASS" if r.ok else "**FAIL**") if r.case.page else "(counts)"
        lines.append(f"| {r.case.name} | {r.pct(0.5):.1f} | {r.pct(0.95):.1f} | {max(r.times_ms):.1f} | {r.rows} | "
                     f"{r.total} | {verdict} |")
    return "\n".join(lines)


# Candidate schema changes, applied cumulatively in the order given (see docs/benchmarks.md).
TRY_PRESETS: dict[str, list[str]] = {
    # sort direction of the queue indexes = the queue's ORDER BY (is_open DESC, urgency_rank, due_on, id)
    "desc": [
        "DROP INDEX ix_report_queue",
        "CREATE INDEX ix_report_queue ON report (department_id, is_open DESC, urgency_rank, due_on, id)",
        "DROP INDEX ix_report_queue_all",
        "CREATE INDEX ix_report_queue_all ON report (is_open DESC, urgency_rank, due_on, id)",
    ],
    # + the filter columns in the index leaf, so capped counts with a filter are index-only scans
    "include": [
        "DROP INDEX ix_report_queue",
        "CREATE INDEX ix_report_queue ON report (department_id, is_open DESC, urgency_rank, due_on, id) "
        "INCLUDE (supervised, status, sector, town_code)",
        "DROP INDEX ix_report_queue_all",
        "CREATE INDEX ix_report_queue_all ON report (is_open DESC, urgency_rank, due_on, id) "
        "INCLUDE (supervised, status, sector, town_code)",
    ],
    # counts()["escalated"]: a tiny partial index instead of a scan of every case record
    "escalated": ["CREATE INDEX ix_case_record_escalated ON case_record (report_id) WHERE escalation > 0"],
}


def run_all(engine: Any, sessions: Any, cases: list[Case], args: argparse.Namespace, label: str) -> list[Result]:
    results = [time_case(sessions, c, args.repeat) for c in cases]
    print_table(results, f"{label}: warm, {args.repeat} runs each (target: p95 ≤ {TARGET_MS:.0f} ms per page)")
    if args.markdown:
        print("\n" + markdown_table(results))
    if args.explain:
        explain(engine, sessions, cases[0])
        for r in results:
            if r.case.page and not r.ok and r.case is not cases[0]:
                explain(engine, sessions, r.case)
    return results


def summarise(results: list[Result], n: int, label: str) -> str:
    pages = [r for r in results if r.case.page]
    worst = max(pages, key=lambda r: r.pct(0.95))
    return (f"SUMMARY ({label}): {sum(r.ok for r in pages)}/{len(pages)} queue cases within {TARGET_MS:.0f} ms (p95) "
            f"at {n:,} reports; worst: {worst.case.name} p95 {worst.pct(0.95):.1f} ms; counts() p95: "
            + ", ".join(f"{r.case.name.split(' ', 1)[1]} {r.pct(0.95):.1f} ms" for r in results if not r.case.page))


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A migrated, initialised instance on a benchmark database and the synthetic reports to load."""

    engine: Any
    sessions: Any
    init: Any
    departments: dict[str, int]
    index_key: bytes
    today: date
    rng: Any
    syn: Any
    vocab: Any
    tt: Any


def prepare(url: str, tmp: Path, n: int, seed: int, timings: dict[str, float]) -> Prepared:
    """Migrate ``url``, create the instance (keys, departments) under ``tmp`` and synthesise ``n``
    reports with their blind-index terms; shared by this bench and bench/oversight_scale.py."""
    from sqlalchemy import select

    from cases.calendar import today_cst
    from models import Department
    from models.base import utcnow
    from portal.db import make_engine, make_sessionmaker
    from portal.migrate import upgrade
    from portal.provisioning import init_instance
    from secure_store.blind_index import derive_index_key

    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        init = init_instance(db, tmp / "instance")
        departments = {d.code: d.id for d in db.scalars(select(Department))}
    index_key = derive_index_key(init.secrets.mac_key)
    now = utcnow()
    today = today_cst(now)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    vocab, _df = build_vocabulary(VOCABULARY)
    syn = synthesise(rng, n, now, today, departments, ENTERPRISES)
    syn.numbers = report_numbers(rng, syn)
    tt = build_terms(index_key, vocab, syn.enterprise_names)
    timings["prepare (vocabulary, enterprises, distributions)"] = time.perf_counter() - t0
    return Prepared(engine, sessions, init, departments, index_key, today, rng, syn, vocab, tt)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1_000_000, help="synthetic reports to load (20000 for a quick run)")
    ap.add_argument("--repeat", type=int, default=20, help="timed runs per case (after 2 warm-up runs)")
    ap.add_argument("--database-url", default=None, help="an EMPTY PostgreSQL database to use instead of a fresh one")
    ap.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="server on which to create the fresh database")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards (its URL is printed)")
    ap.add_argument("--explain", action="store_true",
                    help="print EXPLAIN (ANALYZE, BUFFERS) of the handler page-1 queries and of every failing case")
    ap.add_argument("--handler-department", default="emergency",
                    help="department code of the timed handler (emergency: 20%% of reports, five sectors)")
    ap.add_argument("--try-index", action="append", default=[], metavar="PRESET|DDL",
                    help="after the first timing, apply a candidate change to the bench database (a preset: "
                         + ", ".join(TRY_PRESETS) + "; or any DDL), ANALYZE and time everything again; "
                         "repeatable, applied cumulatively")
    ap.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    ap.add_argument("--no-http", action="store_true", help="skip the whole-page timings (bench/workbench_http.py)")
    ap.add_argument("--seed", type=int, default=20260101, help="random seed of the synthetic data")
    args = ap.parse_args()

    import psycopg
    from sqlalchemy import inspect

    from portal.db import make_engine

    created_db: str | None = None
    if args.database_url:
        url = sa_url(args.database_url)
        engine = make_engine(url)
        if inspect(engine).get_table_names():
            print("refusing: --database-url must name an EMPTY database (departments and keys are created fresh)")
            return 2
        engine.dispose()
    else:
        created_db = f"aqjb_bench_{secrets.token_hex(4)}"
        try:
            with psycopg.connect(libpq_url(args.admin_url), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{created_db}"')
        except psycopg.Error as exc:
            print(f"cannot create a database on {args.admin_url}: {exc}")
            return 2
        url = sa_url(args.admin_url, created_db)
    tmp = Path(tempfile.mkdtemp(prefix="aqjb-bench-"))
    engine = None
    try:
        t_all = time.perf_counter()
        timings: dict[str, float] = {}
        p = prepare(url, tmp, args.reports, args.seed, timings)
        engine, sessions, init, index_key = p.engine, p.sessions, p.init, p.index_key
        rng, syn, vocab, tt = p.rng, p.syn, p.vocab, p.tt

        conn = psycopg.connect(libpq_url(url))
        try:
            before = Schema.read(conn, LOADED_TABLES)
            drop_for_load(conn, before)
            conn.commit()
            t_load = time.perf_counter()
            rows = load(conn, rng, syn, tt, timings)
            conn.commit()
            restore_after_load(conn, before, timings)
            conn.commit()
            after = Schema.read(conn, LOADED_TABLES)
            if after.signature() != before.signature():
                print("ERROR: schema after the load differs from Alembic's:",
                      before.signature() ^ after.signature())
                return 2
            load_s = time.perf_counter() - t_load
            conn.commit()
            conn.autocommit = True
            t0 = time.perf_counter()
            for table in LOADED_TABLES:
                conn.execute(f"VACUUM (ANALYZE) {table}")
            timings["vacuum analyze"] = time.perf_counter() - t0
            sizes = conn.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s) ORDER BY relname", (list(LOADED_TABLES),)).fetchall()
            server = conn.execute("SHOW server_version").fetchone()[0]
            settings = {k: conn.execute(f"SHOW {k}").fetchone()[0]
                        for k in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost")}
        finally:
            conn.close()

        n_open = int(syn.is_open.sum())
        print(f"PostgreSQL {server} ({', '.join(f'{k}={v}' for k, v in settings.items())}); "
              f"cpus: {os.cpu_count()}; database: {created_db or 'given'}")
        print(f"reports: {rows['report']:,} ({n_open:,} open = {n_open / syn.n:.1%}; "
              f"overdue {int((syn.is_open & (syn.due_days < 0)).sum()):,}; "
              f"supervised {int(syn.supervised.sum()):,}); case_record: {rows['case_record']:,}; "
              f"search_term: {rows['search_term']:,} ({rows['search_term'] / syn.n:.1f}/report; vocabulary "
              f"{len(vocab):,} words, {len(syn.enterprise_names):,} enterprises)")
        per_dept = Counter(syn.dept.tolist())
        print("reports per department: " + ", ".join(
            f"{syn.dept_codes[d]} {c:,}" for d, c in sorted(per_dept.items(), key=lambda kv: -kv[1])))
        print("sizes: " + ", ".join(f"{r} {s}" for r, s in sizes))
        for k, v in timings.items():
            print(f"  {k:<50} {v:7.1f} s")
        copy_s = sum(v for k, v in timings.items() if k.startswith("copy"))
        total_rows = sum(rows.values())
        print(f"load: {load_s:.1f} s for {total_rows:,} rows ({total_rows / load_s:,.0f} rows/s including index "
              f"builds and foreign-key checks; COPY alone {copy_s:.1f} s = {total_rows / copy_s:,.0f} rows/s; "
              f"{syn.n / load_s:,.0f} reports/s)")

        with sessions() as db:
            cases = build_cases(syn, db, index_key, vocab, args.handler_department)
        print(f"load average before timing: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results = run_all(engine, sessions, cases, args, f"{syn.n:,} reports, schema as migrated")
        summary = summarise(results, syn.n, "as migrated") + f"; load {load_s:.0f} s"
        if not args.no_http:
            from workbench_http import print_pages, time_pages

            pages = time_pages(url, tmp / "instance", init.recovery_private_hex, args.handler_department,
                               [vocab[0], vocab[99]], args.repeat)
            summary += "\n" + print_pages(pages, TARGET_MS)

        for step in args.try_index:
            ddls = TRY_PRESETS.get(step, [step])
            print(f"\n=== --try-index {step} ===")
            with psycopg.connect(libpq_url(url), autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '1GB'")
                for ddl in ddls:
                    t0 = time.perf_counter()
                    conn.execute(ddl)
                    print(f"  {ddl}  ({time.perf_counter() - t0:.1f} s)")
                for table in LOADED_TABLES:
                    conn.execute(f"ANALYZE {table}")
                sizes = conn.execute(
                    "SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_index i "
                    "ON i.indexrelid = c.oid WHERE i.indrelid IN ('report'::regclass, 'case_record'::regclass) "
                    "AND c.relname LIKE ANY (ARRAY['ix_report_queue%%', 'ix_case_record_%%']) ORDER BY 1").fetchall()
                print("  index sizes: " + ", ".join(f"{n} {z}" for n, z in sizes))
            engine.dispose()
            results = run_all(engine, sessions, cases, args, f"{syn.n:,} reports, after --try-index {step}")
            summary += "\n" + summarise(results, syn.n, f"after --try-index {step}")

        print(f"\nload average after timing: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"total wall time {time.perf_counter() - t_all:.0f} s")
        print(summary)
        return 0
    finally:
        if engine is not None:
            engine.dispose()
        if args.keep:
            print(f"kept: {url} (instance data dir, with the index key: {tmp / 'instance'})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if args.database_url:
                print("the synthetic reports stay in the --database-url database; drop it yourself")
            if created_db:
                with psycopg.connect(libpq_url(args.admin_url), autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{created_db}" WITH (FORCE)')
                print(f"dropped database {created_db}")


if __name__ == "__main__":
    raise SystemExit(main())
