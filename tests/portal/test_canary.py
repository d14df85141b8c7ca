"""Submit canary strings through every channel, then scan everything at rest for them.

Covers the database (SQLite file bytes, or every row of every PostgreSQL table as text), every
file under the data dir (keys, encrypted store, spool, logs), and the log records of the run.
The client address must not appear either.
"""

import io
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import (drop_pg_database, form_tokens, jpeg_with_exif, login, new_pg_database, number_of,
                            pdf_with_author, provision, receipt_of, require, solve_pow, submit_report)

CANARY = "金丝雀CANARY7Q"
ACCOUNT = "62284800999977776666"  # the bank account a reward claim carries
CANARIES = [CANARY, "CANARY-EXIF", "CANARY-AUTHOR", "13912345678", "11010519491231002X", "甄士隐", "203.0.113.77", ACCOUNT]


def _exercise(client) -> tuple[str, str]:
    r = submit_report(client, {"description": f"{CANARY} 化工厂储罐区泄漏 {CANARY}", "address": f"{CANARY}路",
                               "enterprise": f"{CANARY}化工有限公司", "observed": "2026-11-20",
                               "identity_mode": "named", "name": "甄士隐", "phone": "13912345678",
                               "id_number": "11010519491231002X", "internal": "1", "contact": "other",
                               "contact_detail": f"{CANARY}微信"},
                      files=[(jpeg_with_exif("CANARY-EXIF"), f"{CANARY}.jpg"), (pdf_with_author("CANARY-AUTHOR"), "a.pdf")])
    assert r.status_code == 200
    receipt = receipt_of(r.get_data(as_text=True))
    number = number_of(r.get_data(as_text=True))
    # a failed attempt leaves a pending upload in the spool: it must be encrypted too
    bad = submit_report(client, {"description": "", "address": CANARY}, files=[(jpeg_with_exif("CANARY-EXIF"), "p.jpg")])
    assert bad.status_code == 400
    html = login(client, receipt).get_data(as_text=True)
    t = form_tokens(html)
    client.post("/follow-up/message", data={**t, "body": f"留言 {CANARY}"})
    client.post("/follow-up/evidence", data={**t, "attachments": [(io.BytesIO(jpeg_with_exif("CANARY-EXIF")), "e.jpg")]},
                content_type="multipart/form-data")
    pw = client.get("/api/v1/pow").get_json()
    from intake.pow import solve

    api = client.post("/api/v1/reports", json={"description": f"API {CANARY}", "identity_mode": "named", "name": "甄士隐",
                                               "phone": "13912345678", "pow": {"challenge": pw["challenge"], "nonce": solve(pw["challenge"], pw["bits"])}})
    assert api.status_code == 201
    client.get("/report")  # render pages after the fact, too
    return number, receipt


def _claim_reward(env, client, number: str, receipt: str) -> None:  # type: ignore[no-untyped-def]
    """Take the named report through to an approved reward and claim it with canary bank details."""
    from cases.rewards import claims, workflow
    from tests.cases.conftest import add_member, approve_reward, desk_for, load

    approve_reward(env, number, fine=50_000)
    t = form_tokens(login(client, receipt).get_data(as_text=True))
    resp = client.post("/follow-up/reward/claim", data={**t, "method": "bank", "payee_name": "甄士隐", "bank_name": "农业银行",
                                                        "account": ACCOUNT, "declaration": "on"})
    assert resp.status_code == 200 and "claim-code" in resp.get_data(as_text=True)
    with env.db() as db:
        r = load(db, number)
        payee = claims.payee_details(desk_for(env, db, add_member(env, "finance", "finance")), r, workflow.current(db, r))  # audited, logged without details
        assert payee["account"] == ACCOUNT
        db.commit()


def _scan_bytes(blob: bytes, where: str) -> list[str]:
    found = []
    for c in CANARIES:
        for enc in ("utf-8", "utf-16-le", "gb18030"):
            if c.encode(enc) in blob:
                found.append(f"{c!r} ({enc}) in {where}")
    return found


def _scan_dir(root: Path) -> list[str]:
    found = []
    for p in root.rglob("*"):
        if p.is_file():
            found += _scan_bytes(p.read_bytes(), str(p))
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_canary_is_nowhere_at_rest(backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if backend == "postgres":
        require("postgres")
        url = new_pg_database()
    else:
        url = f"sqlite:///{tmp_path / 'data' / 'portal.db'}"
    try:
        env = provision(tmp_path / "data", url, backend)
        app = env.app()
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
        caplog.set_level(logging.DEBUG)
        number, receipt = _exercise(client)
        _claim_reward(env, client, number, receipt)
        app.extensions["aqjb"].engine.dispose()

        found = _scan_dir(tmp_path)  # data dir incl. SQLite file, WAL, keys, store, spool, logs
        if backend == "postgres":
            from sqlalchemy import create_engine

            engine = create_engine(url)
            with engine.connect() as conn:
                tables = [r[0] for r in conn.execute(text("select tablename from pg_tables where schemaname='public'"))]
                for t in tables:
                    for row in conn.execute(text(f'select row_to_json(x)::text from "{t}" x')):
                        found += _scan_bytes(row[0].encode(), f"postgres table {t}")
                        # bytea columns come back hex-encoded in JSON: decode and scan them too
                        for value in json.loads(row[0]).values():
                            if isinstance(value, str) and value.startswith("\\x"):
                                found += _scan_bytes(bytes.fromhex(value[2:]), f"postgres bytea in {t}")
            engine.dispose()
        found += _scan_bytes("\n".join(r.getMessage() for r in caplog.records).encode(), "log records")
        assert not found, "plaintext at rest:\n" + "\n".join(found)
        # and the data really is there, encrypted: the store holds files, the log file exists
        assert list((tmp_path / "data" / "store" / "files").rglob("*"))
        assert (tmp_path / "data" / "logs" / "portal.log").exists()
    finally:
        if backend == "postgres":
            drop_pg_database(url)
