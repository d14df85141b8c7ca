"""``python -m portal doctor``: a sound deployment passes, and each misconfiguration is named with
its fix — SQLite with several workers, no Redis for several workers, world-readable key files,
clock skew against the database, insecure cookies, a missing finance office, an outdated schema."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from portal.config import Settings
from portal.doctor import Context, run
from tests.conftest import REDIS_URL, Env, provision, scratch_database

REPO = Path(__file__).resolve().parents[2]


def codes(findings, level: str = "error") -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in findings if f.level == level}


def settings(env: Env, **kw) -> Settings:  # type: ignore[no-untyped-def]
    s = Settings.from_env(data_dir=env.data_dir, database_url=env.database_url)
    s.redis_url = kw.pop("redis_url", None)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


@pytest.fixture
def pg_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Production mode is PostgreSQL + Redis: a fresh instance on the machine's PostgreSQL."""
    with scratch_database("postgres", tmp_path) as url:
        yield provision(tmp_path / "data", url, "postgres")


def test_a_production_like_deployment_has_no_errors(pg_env: Env) -> None:
    findings = run(Context(settings(pg_env, redis_url=REDIS_URL), workers=4))
    assert not codes(findings), findings
    assert "rollup_stale" in codes(findings, "warn")  # no oversight-refresh has run yet
    from cases.calendar import today_cst
    from oversight import rollup

    with pg_env.db() as db:
        rollup.refresh(db, today_cst(), days=None)
    assert "rollup_stale" not in codes(run(Context(settings(pg_env, redis_url=REDIS_URL), workers=4)), "warn")


def test_sqlite_or_in_process_limits_with_several_workers_are_errors(env: Env) -> None:
    findings = run(Context(settings(env), workers=4))
    assert "redis_missing" in codes(findings)
    if env.backend == "sqlite":
        assert "sqlite_multiworker" in codes(findings)
        single = run(Context(settings(env), workers=1))
        assert not codes(single) and {"sqlite", "redis_memory"} <= codes(single, "warn")


def test_unreachable_redis_and_insecure_cookies(env: Env) -> None:
    findings = run(Context(settings(env, redis_url="redis://127.0.0.1:1/0", secure_cookies=False, pow_bits=8), workers=1))
    assert {"redis_unreachable", "insecure_cookies"} <= codes(findings) and "low_pow" in codes(findings, "warn")


def test_clock_skew_against_the_database(pg_env: Env) -> None:
    from datetime import datetime, timezone

    later = lambda: datetime.now(timezone.utc) + timedelta(minutes=5)  # noqa: E731
    findings = run(Context(settings(pg_env, redis_url=REDIS_URL), workers=2, now=later))
    assert "clock_skew" in codes(findings)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_key_permissions_finance_office_and_schema(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        env = provision(tmp_path / "data", url, backend)
        key_file = env.data_dir / "keys" / "instance.json"
        os.chmod(key_file, 0o644)
        findings = run(Context(settings(env), workers=1))
        assert "key_permissions" in codes(findings)
        os.chmod(key_file, 0o600)
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(text("delete from department where code = 'finance'"))
            conn.execute(text("update alembic_version set version_num = '0003'"))
        engine.dispose()
        findings = run(Context(settings(env), workers=1))
        assert {"missing_finance", "schema_outdated"} <= codes(findings)
        assert "key_permissions" not in codes(findings)


def test_the_command_prints_fixes_and_exits_1_on_errors(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    run_ = lambda *a: subprocess.run([sys.executable, "-m", "portal", *a], cwd=REPO, env=env,  # noqa: E731
                                     capture_output=True, text=True, timeout=120)
    missing = run_("doctor", "--workers", "1")
    assert missing.returncode == 1 and "python -m portal init" in missing.stdout and "Traceback" not in missing.stderr
    assert run_("init").returncode == 0
    ok = run_("doctor", "--workers", "1")
    assert ok.returncode == 0 and "0 个错误" in ok.stdout, ok.stdout
    many = run_("doctor", "--workers", "4")
    assert many.returncode == 1 and "SQLite" in many.stdout and "REDIS_URL" in many.stdout
