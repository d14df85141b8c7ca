"""Retention: a closed report past its period is shredded — keys, sealed content, files, messages,
index terms gone, the receipt finds nothing, the department can open nothing — while its case
metadata stays for the statistics. Open reports, reports inside their period and reports whose
reward is still in play are kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

import triage
from audit.chain import derive_audit_key, verify
from cases import lifecycle, retention
from cases.retention import Retention
from cases.states import Forbidden
from intake import service
from models import Attachment, AuditEntry, KeyWrap, Message, SearchTerm
from secure_store import instance
from secure_store.files import FileStore
from tests.cases.conftest import add_member, desk_for, intake_ctx, load
from tests.conftest import Env, jpeg_with_exif, number_of, receipt_of, submit_report

LATER = timedelta(days=40)
SHORT = Retention({**retention.DEFAULT_DAYS, "general_hazard": 30, "out_of_scope": 30})


@pytest.fixture
def closed_with_file(env: Env, app, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A named report with a photo and a message, to 应急管理, not accepted (closed)."""
    monkeypatch.setattr(triage, "route", lambda t, **kw: triage.TriageResult(department="emergency", confidence=0.9,
                                                                             needs_review=False, report_type="general_hazard"))
    html = submit_report(app.test_client(), {"description": "楼下饭店煤气罐放在后门通道里，有一股味", "identity_mode": "named",
                                             "name": "孙八", "phone": "13700000008"},
                         files=[(jpeg_with_exif(), "gas.jpg")]).get_data(as_text=True)
    number, receipt = number_of(html), receipt_of(html)
    with env.db() as db:
        d = desk_for(env, db, add_member(env, "handler", "emergency"))
        lifecycle.not_accept(d, load(db, number), "no_clear_facts")
        db.commit()
    return number, receipt


def _keys(env: Env) -> tuple[FileStore, bytes]:
    return FileStore(env.data_dir / "store"), derive_audit_key(instance.load(env.data_dir).mac_key)


def test_a_closed_report_past_its_period_is_shredded(env: Env, closed_with_file) -> None:  # type: ignore[no-untyped-def]
    number, receipt = closed_with_file
    store, audit_key = _keys(env)
    with env.db() as db:
        r = load(db, number)
        files = list(db.scalars(select(Attachment.storage_name).where(Attachment.report_id == r.id)))
        assert files and all(store.path_for(f).exists() for f in files)
        assert number not in {x.number for x in retention.due_for_purge(db, SHORT, datetime.now(timezone.utc))}
        now = datetime.now(timezone.utc) + LATER
        dry = retention.run(db, store, audit_key, SHORT, now, dry_run=True)
        assert dry["general_hazard"] >= 1 and load(db, number).purged_at is None
        retention.run(db, store, audit_key, SHORT, now)
    with env.db() as db:
        r = load(db, number)
        assert r.purged_at is not None and r.sealed_content == b"" and r.sealed_identity is None
        for model in (KeyWrap, Attachment, Message, SearchTerm):
            assert db.scalar(select(func.count()).select_from(model).where(model.report_id == r.id)) == 0
        assert not any(store.path_for(f).exists() for f in files)
        assert r.status == "not_accepted" and r.department.code == "emergency"  # the metadata stays
        with pytest.raises(Forbidden):
            desk_for(env, db, add_member(env, "handler", "emergency")).keys(r)
        entry = db.scalar(select(AuditEntry).where(AuditEntry.target_id == number, AuditEntry.action == "retention_purge"))
        assert entry is not None and entry.details["files"] == len(files)
        assert verify(db, audit_key).ok
    with env.db() as db:
        assert service.login_with_receipt(db, intake_ctx(env), receipt) is None


def test_open_recent_and_rewarded_reports_are_kept(env: Env, closed_with_file, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.cases.conftest import file_to

    number, _ = closed_with_file
    open_one = file_to(env, monkeypatch, "emergency")
    store, audit_key = _keys(env)
    with env.db() as db:
        due = {x.number for x in retention.due_for_purge(db, SHORT, datetime.now(timezone.utc) + LATER)}
        assert number in due and open_one not in due
        kept = Retention({**retention.DEFAULT_DAYS, "general_hazard": 0})  # 0: keep for ever
        assert number not in {x.number for x in retention.due_for_purge(db, kept, datetime.now(timezone.utc) + timedelta(days=9999))}
        from models import Reward

        r = load(db, number)
        db.add(Reward(report_id=r.id, department_id=r.department_id, status="claimed", rule_set="henan-2025", facts={},
                      quote={}, amount_yuan=3000, proposed_by=add_member(env, "handler", "emergency").user_id))
        db.flush()  # seen by the query below, never committed: the shared instance's finance screens stay clean
        assert number not in {x.number for x in retention.due_for_purge(db, SHORT, datetime.now(timezone.utc) + LATER)}
        db.rollback()


def test_the_staff_case_page_of_a_purged_report_shows_metadata(env: Env, app, closed_with_file) -> None:  # type: ignore[no-untyped-def]
    from tests.portal.staff_helpers import staff_login

    number, _ = closed_with_file
    store, audit_key = _keys(env)
    with env.db() as db:
        retention.purge(db, store, audit_key, load(db, number))
    client = staff_login(app, add_member(env, "handler", "emergency"))
    html = client.get(f"/staff/case/{number}").get_data(as_text=True)
    assert "按规定销毁" in html and "煤气罐" not in html


def test_the_purge_command(tmp_path: Path) -> None:
    import os

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    assert subprocess.run([sys.executable, "-m", "portal", "init"], cwd=repo, env=env, capture_output=True).returncode == 0
    out = subprocess.run([sys.executable, "-m", "portal", "purge", "--dry-run"], cwd=repo, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "将销毁保存期满的举报：0 件" in out.stdout
