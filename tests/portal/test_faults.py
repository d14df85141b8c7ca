"""Faults: a full disk, a process killed between staging files and committing the report, a
gunicorn worker killed mid-upload, and PostgreSQL dropping every connection under load.

In each case the reporter gets a clear Chinese error and never a receipt for a report that was not
stored, nothing half-written is left in the database, every encrypted file left behind is an
orphan the housekeeping sweep removes, and the service recovers by itself.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake import housekeeping
from models import Attachment, Report
from secure_store.files import FileStore
from tests.conftest import Env, form_tokens, jpeg_with_exif, provision, receipt_of, scratch_database, solve_pow, submit_report

REPO = Path(__file__).resolve().parents[2]


def _count(env: Env) -> int:
    with env.db() as db:
        return db.scalar(select(func.count()).select_from(Report)) or 0


def _stored(store: FileStore) -> set[str]:
    return {p.name for p in store.files.glob("??/*")}


def _referenced(env: Env) -> set[str]:
    with env.db() as db:
        return set(db.scalars(select(Attachment.storage_name)))


def test_disk_full_while_storing_keeps_the_form_and_recovers(env: Env, app, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    store = FileStore(env.data_dir / "store")
    before, files_before = _count(env), _stored(store)

    def full(self, tmp_name: str, keep_tmp: bool = False) -> str:  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileStore, "commit", full)
    resp = submit_report(client, {"description": "锅炉房压力表坏了还在烧，随时可能爆"}, files=[(jpeg_with_exif(), "boiler.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "本次没有提交成功" in html and "receipt-code" not in html
    assert "锅炉房压力表坏了还在烧" in html and "boiler.jpg" in html  # text and upload kept
    assert "Traceback" not in html and _count(env) == before and _stored(store) == files_before

    monkeypatch.undo()  # space is back: the reporter presses 提交 again with the pending upload
    t = form_tokens(html)
    pending = re.findall(r'name="pending" value="([^"]+)"', html)
    keep = re.findall(r'name="keep_pending" value="([^"]+)"', html)
    resp = client.post("/report", data={"csrf_token": t["csrf_token"], "pow_challenge": t["pow_challenge"],
                                        "pow_nonce": solve_pow(t["pow_challenge"]), "description": "锅炉房压力表坏了还在烧，随时可能爆",
                                        "pending": pending, "keep_pending": keep, "pending_present": "1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and receipt_of(resp.get_data(as_text=True))
    assert _count(env) == before + 1 and len(_stored(store) - files_before) == 1


def test_disk_full_while_spooling_an_upload(env: Env, app, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileStore, "open_tmp", full)
    before = _count(env)
    resp = submit_report(app.test_client(), {"description": "配电房漏水，电缆泡在水里"}, files=[(jpeg_with_exif(), "p.jpg")])
    assert resp.status_code == 503 and "本次没有提交成功" in resp.get_data(as_text=True) and _count(env) == before
    api = app.test_client().post("/api/v1/reports", data={"report": "{}", "files": [(__import__("io").BytesIO(b"x" * 10), "a.jpg")]},
                                 content_type="multipart/form-data")
    assert api.status_code == 503 and "没有提交成功" in api.get_json()["error"]


KILL_BEFORE_COMMIT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    os.environ["PORTAL_DATA_DIR"] = {data!r}
    import triage
    from sqlalchemy.orm import Session
    from intake import service
    from intake.reference import load_reference
    from intake.uploads import EncryptedSpool, accept_spool
    from intake.validation import validate_report
    from portal.db import make_engine, make_sessionmaker
    from secure_store import instance
    from secure_store.files import FileStore
    from tests.conftest import jpeg_with_exif, manual_routing
    triage.route = manual_routing
    store = FileStore({data!r} + "/store")
    spool = EncryptedSpool(store)
    spool.write(jpeg_with_exif())
    pending = accept_spool(spool, "scene.jpg")
    data = validate_report({{"description": "kill -9 之前：仓库电线私拉乱接"}}, load_reference()).value
    ctx = service.IntakeContext(instance.load({data!r}), store, load_reference())
    Session.commit = lambda self: os.kill(os.getpid(), signal.SIGKILL)   # the power goes out here
    with make_sessionmaker(make_engine({url!r}))() as db:
        service.file_report(db, ctx, data, [pending])
    print("NOT KILLED")
""")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_killed_between_staging_and_commit(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        env = provision(tmp_path / "data", url, backend)
        script = KILL_BEFORE_COMMIT.format(repo=str(REPO), data=str(env.data_dir), url=url)
        out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PORTAL_ARGON2_MEMORY_KIB": "1024", "PORTAL_ARGON2_TIME_COST": "1"})
        assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
        store = FileStore(env.data_dir / "store")
        assert _count(env) == 0  # nothing half-written
        orphans = _stored(store)
        assert len(orphans) == 1 and not (orphans & _referenced(env))  # the staged file, no row, its key gone
        with env.db() as db:
            assert housekeeping.sweep_orphans(db, store, min_age_s=3600) == 0  # too young: may be in flight
            assert housekeeping.sweep_orphans(db, store, min_age_s=0) == 1
        assert store.cleanup_tmp(0) >= 1  # the spool
        assert not _stored(store) and not list(store.tmp.iterdir())


def test_sweep_keeps_referenced_files(env: Env, app) -> None:
    submit_report(app.test_client(), {"description": "工地围挡倒了压着电线"}, files=[(jpeg_with_exif(), "a.jpg")])
    store = FileStore(env.data_dir / "store")
    with env.db() as db:
        housekeeping.sweep_orphans(db, store, min_age_s=0)
    assert _referenced(env) <= _stored(store)
