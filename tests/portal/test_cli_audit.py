"""`python -m portal audit verify|head` on a real instance: the append-only triggers refuse edits,
and an edit made after dropping them (a DBA) is found, as is a deleted tail given the head."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.chain import Actor, derive_audit_key, record
from portal import cli
from secure_store import instance
from tests.conftest import Env, provision, scratch_database


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with scratch_database(request.param, tmp_path, "portal.db") as url:
        env = provision(tmp_path / "inst", url, request.param)
        monkeypatch.setenv("PORTAL_DATA_DIR", str(env.data_dir))
        monkeypatch.setenv("DATABASE_URL", url)
        key = derive_audit_key(instance.load(env.data_dir).mac_key)
        with env.db() as db:
            for i in range(12):
                record(db, key, actor=Actor(1, "handler-a", "handler", "fire"), action="view_report",
                       target_type="report", target_id=f"AQ20261122-{i:08d}")
            db.commit()
        yield env


def test_verify_passes_then_detects_an_edit(fresh: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "verify"]) == 0
    assert "共 12 条" in capsys.readouterr().out
    with fresh.db() as db:
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 5"))
            db.commit()
        db.rollback()
        if fresh.backend == "postgres":
            db.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            db.execute(text("DROP TRIGGER audit_entry_no_update"))
        db.execute(text("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 5"))
        db.commit()
    assert cli.main(["audit", "verify"]) == 1
    assert "seq 5" in capsys.readouterr().err


def test_deleted_tail_is_found_with_the_recorded_head(fresh: Env, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "head"]) == 0
    head = capsys.readouterr().out.strip()
    assert head.startswith("12:")
    with fresh.db() as db:
        if fresh.backend == "postgres":
            db.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            db.execute(text("DROP TRIGGER audit_entry_no_delete"))
        db.execute(text("DELETE FROM audit_entry WHERE seq > 10"))
        db.commit()
    assert cli.main(["audit", "verify"]) == 0  # the chain alone cannot see a cut tail
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--expect", head]) == 1
    assert "truncated" in capsys.readouterr().err
