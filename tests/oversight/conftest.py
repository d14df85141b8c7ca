"""A fresh instance per backend holding only a generated case set (module scope)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env, provision, scratch_database
from tests.oversight.factory import generate

START = date(2026, 3, 2)  # a Monday
DAYS = 56


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp: Path = tmp_path_factory.mktemp(f"oversight-{request.param}")
    with scratch_database(request.param, tmp) as url:
        env: Env = provision(tmp / "inst", url, request.param)
        with env.db() as db:
            rows = generate(db, 400, START, DAYS)
        yield env, rows
