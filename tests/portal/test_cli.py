"""The command line: demo (with --json), verify-certificate, cleanup, serve's schema check."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), **env}
    e.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "portal", *args], cwd=REPO, env=e, capture_output=True, text=True, timeout=120)


def test_demo_creates_departments_and_one_login_per_role(tmp_path: Path) -> None:
    out = _run(["demo", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    roles = {login["role"] for login in data["logins"]}
    assert roles == {"handler", "head", "coordinator", "finance", "auditor", "admin"}
    assert data["departments"] == 16  # 14 of the taxonomy + the coordinating office + the finance office
    assert all(len(login["password"]) >= 12 for login in data["logins"])
    again = _run(["demo"], tmp_path)  # idempotent, prints the same logins
    assert again.returncode == 0 and data["logins"][0]["password"] in again.stdout
    assert oct((tmp_path / "demo-logins.json").stat().st_mode & 0o777) == "0o600"


def test_verify_certificate_accepts_genuine_and_rejects_forged(tmp_path: Path) -> None:
    assert _run(["init"], tmp_path).returncode == 0
    from secure_store import certificate, instance

    secrets_ = instance.load(tmp_path)
    cert = certificate.issue(secrets_.signing_key, "AQ20261122-ABCDEFGH", "2026-11-22T00:00:00Z", "ab" * 32)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(cert, ensure_ascii=False), encoding="utf-8")
    ok = _run(["verify-certificate", str(good)], tmp_path)
    assert ok.returncode == 0 and "有效" in ok.stdout and "AQ20261122-ABCDEFGH" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(cert, filed_at="2026-11-01T00:00:00Z")), encoding="utf-8")
    no = _run(["verify-certificate", str(bad)], tmp_path)
    assert no.returncode == 1 and "无效" in no.stdout
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert _run(["verify-certificate", str(junk)], tmp_path).returncode == 2


def test_cleanup_and_serve_refuses_unmigrated_database(tmp_path: Path) -> None:
    assert _run(["init"], tmp_path).returncode == 0
    out = _run(["cleanup"], tmp_path)
    assert out.returncode == 0 and "清理" in out.stdout
    fresh = tmp_path / "fresh"
    from secure_store import instance

    instance.create(fresh)
    serve = _run(["serve"], fresh, DATABASE_URL=f"sqlite:///{fresh / 'empty.db'}")
    assert serve.returncode == 2 and "migrate" in serve.stderr
