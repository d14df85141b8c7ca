"""``python -m portal notices`` and ``oversight-refresh`` as cron would run them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from models import AuditEntry

REPO = Path(__file__).resolve().parents[2]


def _run(env: Any, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "PORTAL_DATA_DIR": str(env.data_dir), "DATABASE_URL": env.database_url, **extra}
    return subprocess.run([sys.executable, "-m", "portal", *args], cwd=REPO, env=e, capture_output=True, text=True,
                          timeout=300)


def test_notices_cli_writes_pdf_and_xlsx_and_audits(world: Any, tmp_path: Path) -> None:
    env, rows = world
    out = tmp_path / "n.pdf"
    done = _run(env, "notices", "monthly", "--period", "2026-04", "--format", "pdf", "--out", str(out),
                "--weights", "rate=1,overdue=0,time=0")
    assert done.returncode == 0, done.stderr
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert f"收到举报{len(rows)}件" in text and "整改销号率1" in text
    xlsx = tmp_path / "n.xlsx"
    assert _run(env, "notices", "weekly", "--period", "2026-W15", "--out", str(xlsx)).returncode == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    bad = _run(env, "notices", "weekly", "--period", "2026-04", "--out", str(xlsx))
    assert bad.returncode == 2 and "2026-W49" in bad.stderr
    bad = _run(env, "notices", "monthly", "--period", "2026-04", "--out", str(xlsx), PORTAL_RANK_WEIGHTS="fast=1")
    assert bad.returncode == 2 and "权重" in bad.stderr
    with env.db() as db:
        details = [d for (d,) in db.execute(select(AuditEntry.details).where(AuditEntry.action == "export"))]
    assert {"what": "notice_monthly", "period": "2026-04", "format": "pdf"} in details


def test_refresh_cli(world: Any) -> None:
    env, _ = world
    done = _run(env, "oversight-refresh", "--full")
    assert done.returncode == 0 and "统计汇总表已刷新" in done.stdout, done.stderr
