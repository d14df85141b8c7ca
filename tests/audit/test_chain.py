"""The audit chain must catch edits, deletions, forged rewrites and (with a recorded head) a cut
tail, stay gap-free across rollbacks, and never fork under concurrent appends — on SQLite and on
a real PostgreSQL database."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audit import Actor, derive_audit_key, entries, head, record, verify
from audit.chain import GENESIS, canonical, compute_hash
from audit.export import ACTION_LABELS, HEADERS, to_csv, to_xlsx
from models.audit import AuditEntry
from models.base import Base, utcnow
from portal.db import make_engine, make_sessionmaker
from tests.conftest import scratch_database

KEY = derive_audit_key(os.urandom(32))
ALICE = Actor(7, "alice", "handler", "yjj")


@dataclass
class DB:
    backend: str
    engine: Engine
    sm: sessionmaker[Session]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DB]:
    with scratch_database(request.param, tmp_path, "audit.db") as url:
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine, tables=[AuditEntry.__table__])  # type: ignore[list-item]
            yield DB(request.param, engine, make_sessionmaker(engine))
        finally:
            engine.dispose()


def fill(d: DB, n: int, actor: Actor = ALICE) -> None:
    for i in range(n):
        with d.sm() as s:
            record(s, KEY, actor=actor, action="view_report", target_type="report",
                   target_id=f"AQ2025-{i:05d}", details={"reason": "办理", "n": i})
            s.commit()


def sql(d: DB, stmt: str, **params: object) -> None:
    with d.engine.begin() as conn:
        conn.execute(text(stmt), params)


def check(d: DB, **kw: object):  # type: ignore[no-untyped-def]
    with d.sm() as s:
        return verify(s, KEY, batch=7, **kw)  # small batches: exercise the batch boundaries


def test_clean_chain_verifies(db: DB) -> None:
    fill(db, 50)
    res = check(db)
    assert res.ok, res.problems
    assert (res.count, res.head_seq) == (50, 50)
    with db.sm() as s:
        assert head(s) == (50, res.head_hash)
        first = s.get(AuditEntry, 1)
        assert first is not None and first.prev_hash == GENESIS
        assert first.details == {"n": 0, "reason": "办理"}
    # the MAC depends on the instance key: another key rejects every entry
    with db.sm() as s:
        other = verify(s, derive_audit_key(os.urandom(32)))
    assert not other.ok and sum("MAC invalid" in p for p in other.problems) == 50


@pytest.mark.parametrize("column,value", [("details", json.dumps({"reason": "改过", "n": 16})),
                                          ("actor", "mallory")])
def test_edit_detected(db: DB, column: str, value: str) -> None:
    fill(db, 50)
    sql(db, f"UPDATE audit_entry SET {column} = :v WHERE seq = 17", v=value)
    res = check(db)
    assert not res.ok
    assert res.problems == [p for p in res.problems if p.startswith("seq 17: entry_hash mismatch (edited)")]
    assert len(res.problems) == 1


def test_delete_middle_detected(db: DB) -> None:
    fill(db, 50)
    sql(db, "DELETE FROM audit_entry WHERE seq = 20")
    res = check(db)
    assert not res.ok and res.count == 49
    assert any(p.startswith("seq 20 missing (deleted)") for p in res.problems), res.problems
    assert any(p.startswith("seq 21: prev_hash does not match seq 19") for p in res.problems), res.problems


def test_rewrite_without_key_detected(db: DB) -> None:
    """A DBA who knows the algorithm edits a row and recomputes its hash — and even every later
    hash, so that the links are consistent. Without the key the MACs give them away."""
    fill(db, 50)
    with db.sm() as s:
        prev = s.get(AuditEntry, 9).entry_hash  # type: ignore[union-attr]
        for seq in range(10, 51):
            e = s.get(AuditEntry, seq)
            assert e is not None
            new_actor = "mallory" if seq == 10 else e.actor
            canon = canonical(seq=e.seq, at=e.at, actor_id=e.actor_id, actor=new_actor, actor_role=e.actor_role,
                              department_code=e.department_code, action=e.action, target_type=e.target_type,
                              target_id=e.target_id, details=e.details, prev_hash=prev)
            h = compute_hash(prev, canon)
            s.execute(text("UPDATE audit_entry SET actor = :a, prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                      {"a": new_actor, "p": prev, "h": h, "s": seq})
            if seq == 10:
                s.commit()
                one = verify(s, KEY)  # only row 10 rewritten so far
                assert "seq 10: MAC invalid" in " ".join(one.problems)
                assert any(p.startswith("seq 11: prev_hash does not match seq 10") for p in one.problems)
                assert not any("edited" in p for p in one.problems), one.problems
            prev = h
        s.commit()
    res = check(db)
    assert not res.ok
    assert not any("edited" in p or "prev_hash" in p for p in res.problems), res.problems
    assert sorted(int(p.split()[1].rstrip(":")) for p in res.problems) == list(range(10, 51))


def test_truncated_tail_needs_recorded_head(db: DB) -> None:
    fill(db, 50)
    with db.sm() as s:
        recorded = head(s)
    assert recorded is not None
    assert check(db, expected_head=recorded).ok
    sql(db, "DELETE FROM audit_entry WHERE seq > 45")
    alone = check(db)
    assert alone.ok and alone.head_seq == 45  # the chain alone cannot see a cut tail
    res = check(db, expected_head=recorded)
    assert not res.ok and any(p.startswith("truncated") for p in res.problems), res.problems
    # a tail re-appended by someone without the key is caught by the MAC and the recorded hash
    fill(db, 5)
    with db.sm() as s:
        res2 = verify(s, derive_audit_key(os.urandom(32)), expected_head=recorded)
    assert any("recorded head" in p for p in res2.problems), res2.problems


def test_rollback_leaves_no_entry_and_no_gap(db: DB) -> None:
    fill(db, 3)
    with db.sm() as s:
        e = record(s, KEY, actor=ALICE, action="transition", target_type="report", target_id="AQ-1",
                   details={"from": "new", "to": "accepted"})
        assert e.seq == 4
        s.rollback()  # the action failed: its audit entry goes with it
    with db.sm() as s:
        assert s.get(AuditEntry, 4) is None
        e = record(s, KEY, actor=Actor.system(), action="config_change")
        assert e.seq == 4
        e2 = record(s, KEY, actor=Actor.reporter(), action="message", target_id="AQ-1")
        assert e2.seq == 5 and e2.prev_hash == e.entry_hash
        s.commit()
    res = check(db)
    assert res.ok and res.count == 5, res.problems


def test_concurrent_appends_do_not_fork(db: DB) -> None:
    """4 threads x 25 entries, each in its own session and transaction. On PostgreSQL the advisory
    lock must serialise them with no error at all. On SQLite a writer whose transaction loses the
    race may get "database is locked" or a primary-key IntegrityError; the writer loop retries the
    whole transaction then, as the application would (the chain must still never fork)."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    retries = [0]

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                while True:
                    s = db.sm()
                    try:
                        record(s, KEY, actor=Actor(t, f"user{t}", "handler", None), action="view_report",
                               target_id=f"T{t}-{i}", details={"i": i})
                        s.commit()
                        break
                    except (IntegrityError, OperationalError):
                        s.rollback()
                        if db.backend != "sqlite":
                            raise
                        retries[0] += 1
                    finally:
                        s.close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    res = check(db)
    assert res.ok and res.count == 100 and res.head_seq == 100, res.problems
    with db.sm() as s:
        mine = s.scalars(text("SELECT target_id FROM audit_entry")).all()
    assert len(set(mine)) == 100


def test_entries_browse(db: DB) -> None:
    fill(db, 12)
    with db.sm() as s:
        record(s, KEY, actor=Actor(9, "bob", "leader", None), action="export", details={"rows": 3})
        s.commit()
        page1 = entries(s, limit=5)
        assert [e.seq for e in page1] == [13, 12, 11, 10, 9]
        page2 = entries(s, limit=5, before_seq=page1[-1].seq)
        assert [e.seq for e in page2] == [8, 7, 6, 5, 4]
        assert [e.seq for e in entries(s, action="export")] == [13]
        assert [e.seq for e in entries(s, actor="bob")] == [13]
        assert [e.seq for e in entries(s, target_id="AQ2025-00003")] == [4]
        now = utcnow()
        assert len(entries(s, since=now - timedelta(hours=1), until=now + timedelta(hours=1))) == 13
        assert entries(s, since=now + timedelta(hours=1)) == []


def test_record_rejects_bad_input(db: DB) -> None:
    with db.sm() as s:
        with pytest.raises(ValueError):
            record(s, KEY, actor=ALICE, action="x" * 41)
        with pytest.raises(ValueError):
            record(s, KEY, actor=ALICE, action="comment", details={"text": "长" * 5000})
        with pytest.raises(ValueError):
            record(s, KEY, actor=ALICE, action="comment", at=utcnow().replace(tzinfo=None))


def test_export_round_trip(db: DB) -> None:
    fill(db, 4)
    with db.sm() as s:
        record(s, KEY, actor=Actor(None, "=HYPERLINK(\"http://x\")", "unknown", None), action="login_failed",
               details={"原因": "密码错误"})
        s.commit()
        rows = entries(s, limit=100)
    assert ACTION_LABELS["identity_view"] and ACTION_LABELS["extension_approve"]

    raw = to_csv(rows)
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert parsed[0] == HEADERS and len(parsed) == 6
    assert parsed[1][0] == "5" and parsed[1][2].startswith("'=HYPERLINK")
    assert "密码错误" in parsed[1][8] and parsed[1][5] == "登录失败 (login_failed)"
    assert parsed[1][9] == rows[0].entry_hash.hex()

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows)))
    ws = wb.active
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 6
    cell = ws.cell(row=2, column=3)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"  # text, not a formula
    assert ws.cell(row=6, column=1).value == "1"
