"""Encrypted backup and a tested restore, on SQLite and PostgreSQL: the backup holds no plaintext
and opens only with the offline recovery key; restored into a new data dir and database, the
reporter's receipt still opens the report, its photo decrypts, and the audit chain verifies."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (jpeg_with_exif, number_of, provision, receipt_of, scratch_database, submit_report)

REPO = Path(__file__).resolve().parents[2]
CANARY = "备份金丝雀BK7"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_backup_and_restore(backend: str, tmp_path: Path) -> None:
    from audit.chain import derive_audit_key, verify
    from intake import service
    from intake.reference import load_reference
    from portal.backup import BackupError, create, restore
    from secure_store import instance
    from secure_store.files import FileStore

    with scratch_database(backend, tmp_path, "a.db") as url_a, scratch_database(backend, tmp_path, "b.db") as url_b:
        env = provision(tmp_path / "a", url_a, backend)
        app = env.app()
        html = submit_report(app.test_client(), {"description": f"{CANARY} 锅炉房压力表坏了还在烧"},
                             files=[(jpeg_with_exif(), "boiler.jpg")]).get_data(as_text=True)
        number, receipt = number_of(html), receipt_of(html)
        app.extensions["aqjb"].engine.dispose()

        out = io.BytesIO()
        manifest = create(env.data_dir, url_a, out)
        blob = out.getvalue()
        assert manifest["files"] >= 1 and CANARY.encode() not in blob and number.encode() not in blob
        with pytest.raises(BackupError, match="恢复密钥不正确"):
            restore(io.BytesIO(blob), "11" * 32, tmp_path / "wrong", url_b)
        tampered = bytearray(blob)
        tampered[-40] ^= 1
        with pytest.raises(BackupError, match="损坏"):
            restore(io.BytesIO(bytes(tampered)), env.recovery_hex, tmp_path / "tampered", url_b if backend == "sqlite" else url_b)

    with scratch_database(backend, tmp_path, "c.db") as url_c:
        target = tmp_path / "c"
        restore(io.BytesIO(blob), env.recovery_hex, target, url_c)
        with pytest.raises(BackupError, match="已有实例密钥"):
            restore(io.BytesIO(blob), env.recovery_hex, target, url_c)
        from portal.db import make_engine, make_sessionmaker

        engine = make_engine(url_c)
        with make_sessionmaker(engine)() as db:
            ctx = service.IntakeContext(instance.load(target), FileStore(target / "store"), load_reference())
            token = service.login_with_receipt(db, ctx, receipt)
            assert token is not None
            access = service.resume(db, token)
            view = service.reporter_view(db, ctx, access)
            assert CANARY in view["content"]["description"] and view["attachments"][0]["filename"] == "boiler.jpg"
            assert verify(db, derive_audit_key(instance.load(target).mac_key)).ok
        engine.dispose()
        assert oct(os.stat(target / "keys").st_mode & 0o777) == "0o700"


def test_the_backup_commands(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path / "a")}
    env.pop("DATABASE_URL", None)
    run = lambda *a, **kw: subprocess.run([sys.executable, "-m", "portal", *a], cwd=REPO, capture_output=True, text=True,  # noqa: E731
                                          timeout=120, **kw)
    init = run("init", env=env)
    assert init.returncode == 0
    key = next(w for w in init.stdout.split() if len(w) == 64 and all(c in "0123456789abcdef" for c in w))
    assert run("backup", "--out", str(tmp_path / "b.bak"), env=env).returncode == 0
    assert oct(os.stat(tmp_path / "b.bak").st_mode & 0o777) == "0o600"
    again = run("backup", "--out", str(tmp_path / "b.bak"), env=env)
    assert again.returncode == 2 and "不会覆盖" in again.stderr
    env2 = {**env, "PORTAL_DATA_DIR": str(tmp_path / "r")}
    bad = run("restore", str(tmp_path / "b.bak"), env=env2, input="00" * 32 + "\n")
    assert bad.returncode == 1 and "恢复密钥不正确" in bad.stderr and "Traceback" not in bad.stderr
    ok = run("restore", str(tmp_path / "b.bak"), env=env2, input=key + "\n")
    assert ok.returncode == 0, ok.stderr
    assert run("doctor", "--workers", "1", env=env2).returncode == 0
