"""The key ceremony from the command line, as a real deployment does it: ``init`` prints the
recovery key, ``create-admin`` makes the first administrator, the administrator creates a head,
the head sets a password, and ``grant-key`` (recovery key on stdin) gives the head the department
key — refused before the password change, to a member of another department, or with a wrong key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[2]


def test_init_admin_and_first_key_holder(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    run = lambda *a, stdin="": subprocess.run([sys.executable, "-m", "portal", *a], cwd=REPO, env=env, input=stdin,  # noqa: E731
                                              capture_output=True, text=True, timeout=120)
    init = run("init")
    recovery = re.search(r"\b[0-9a-f]{64}\b", init.stdout).group(0)  # type: ignore[union-attr]
    admin = run("create-admin", "admin1", "--name", "系统管理员")
    assert admin.returncode == 0 and len(admin.stdout.strip().splitlines()[-1]) >= 12
    assert run("create-admin", "admin1").returncode == 1

    from accounts import admin as accounts
    from audit.chain import derive_audit_key
    from cases.desk import StaffContext
    from models import DepartmentGrant, StaffUser
    from portal.db import make_engine, make_sessionmaker
    from secure_store import instance

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = make_engine(url)
    audit_key = derive_audit_key(instance.load(tmp_path).mac_key)
    with make_sessionmaker(engine)() as db:
        me = db.scalar(select(StaffUser).where(StaffUser.username == "admin1"))
        actor = StaffContext(user_id=me.id, username="admin1", role="admin", department_id=None, department_code=None)
        head, _ = accounts.create_account(db, audit_key, actor, username="fire-head", role="head", display_name="消防负责人",
                                          department_code="fire")
    refused = run("grant-key", "--department", "fire", "--username", "fire-head", stdin=recovery + "\n")
    assert refused.returncode == 1 and "尚未" in refused.stderr  # the administrator knows the temporary password
    with make_sessionmaker(engine)() as db:
        db.get(StaffUser, head.id).must_change_password = False  # what the first login's password change does
        db.commit()
    assert "不正确" in run("grant-key", "--department", "fire", "--username", "fire-head", stdin="00" * 32 + "\n").stderr
    assert "不是" in run("grant-key", "--department", "housing", "--username", "fire-head", stdin=recovery + "\n").stderr
    ok = run("grant-key", "--department", "fire", "--username", "fire-head", stdin=recovery + "\n")
    assert ok.returncode == 0, ok.stderr
    with make_sessionmaker(engine)() as db:
        assert db.scalar(select(DepartmentGrant).where(DepartmentGrant.user_id == head.id)) is not None
    engine.dispose()
    assert recovery not in ok.stdout + ok.stderr
