"""A short run of bench/load_submit.py in the suite (CI): 20 concurrent submitters for 8 seconds
against gunicorn + PostgreSQL + Redis; every acknowledged report must be stored once and decrypt
with its receipt. The full figures (200 clients) come from the bench itself: docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_load_smoke_loses_nothing() -> None:
    require("postgres")
    require("redis")
    out = subprocess.run([sys.executable, "bench/load_submit.py", "--clients", "20", "--seconds", "8", "--workers", "2"],
                         cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["acknowledged"] > 0 and result["lost"] == 0 and result["duplicated"] == 0
    assert result["rows"] == result["acked"]
