"""Shared fixtures: a portal instance on SQLite and on the machine's real PostgreSQL, with Redis.

PostgreSQL and Redis are expected at 127.0.0.1:5432 / 6379 (PORTAL_TEST_PG_URL, PORTAL_TEST_REDIS_URL
override). When one is truly absent its tests are skipped with a loud reason, and the run ends
with a warning naming what was not exercised.
"""

from __future__ import annotations

import os

# Cheap Argon2id for the suite (one test checks the production defaults separately).
os.environ.setdefault("PORTAL_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("PORTAL_ARGON2_TIME_COST", "1")

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN_URL = os.environ.get("PORTAL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_skipped_services: set[str] = set()


def pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable at {REDIS_URL}: {exc}"


def require(service: str) -> None:
    reason = pg_available() if service == "postgres" else redis_available()
    if reason:
        _skipped_services.add(reason)
        pytest.skip("SERVICE MISSING — " + reason)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in sorted(_skipped_services):
        terminalreporter.write_line(f"WARNING: not exercised against a real service: {reason}", red=True, bold=True)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    require("postgres")
    import psycopg

    name = f"aqjb_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    yield url
    scan_pg(url)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_pg_database() -> str:
    import psycopg

    name = f"aqjb_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"


@contextmanager
def scratch_database(backend: str, tmp_path: Path, name: str = "scratch.db") -> Iterator[str]:
    """A throw-away database URL on ``backend`` ("sqlite" file or a fresh PostgreSQL database,
    skipped loudly when the server is absent), dropped afterwards."""
    if backend == "postgres":
        require("postgres")
        url = new_pg_database()
        try:
            yield url
        finally:
            drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Env:
    """A provisioned instance: data dir, database URL, recovery key, and a factory for apps."""

    data_dir: Path
    database_url: str
    recovery_hex: str
    backend: str

    def settings(self, **overrides: Any):  # type: ignore[no-untyped-def]
        from portal.config import Settings

        limits = {"ANY_REQUEST": "100000/minute", "SUBMIT_POW": "100000/hour", "SUBMIT_NOPOW": "100000/hour",
                  "SUBMIT_GLOBAL": "100000/hour", "UPLOAD": "100000/hour", "MESSAGE": "100000/hour",
                  "LOGIN_NOPOW": "100000/hour"}
        limits.update(overrides.pop("limits", {}))
        s = Settings.from_env(data_dir=self.data_dir, database_url=self.database_url, limits=limits)
        s.pow_bits = overrides.pop("pow_bits", 0)
        s.secure_cookies = False
        s.testing = True
        s.limiter_prefix = "t" + secrets.token_hex(6)
        for k, v in overrides.items():
            setattr(s, k, v)
        return s

    def app(self, **overrides: Any):  # type: ignore[no-untyped-def]
        from portal import create_app

        return create_app(self.settings(**overrides))

    def db(self):  # type: ignore[no-untyped-def]
        from portal.db import make_engine, make_sessionmaker

        return make_sessionmaker(make_engine(self.database_url))()


def provision(data_dir: Path, database_url: str, backend: str) -> Env:
    from portal.db import make_engine, make_sessionmaker
    from portal.migrate import upgrade
    from portal.provisioning import init_instance

    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as db:
        result = init_instance(db, data_dir)
    engine.dispose()
    assert result.recovery_private_hex
    return Env(data_dir, database_url, result.recovery_private_hex, backend)


def scan_for_plaintext(blob: bytes, where: str) -> list[str]:
    return [f"{t[:20]!r} in {where}" for t in SUBMITTED if t.encode("utf-8") in blob]


@pytest.fixture(scope="session", autouse=True)
def _plaintext_scan_after_the_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After every test has run: no report text the suite submitted is anywhere under the test
    instances' directories (SQLite files and WAL, keys, encrypted store, spools, logs, server
    output) in clear. The PostgreSQL databases are scanned as they are dropped (pg_database)."""
    yield
    root = tmp_path_factory.getbasetemp()
    found: list[str] = []
    for p in root.rglob("*"):
        if p.is_file() and "test-artifacts" not in p.parts and p.suffix not in (".png",):
            found += scan_for_plaintext(p.read_bytes(), str(p.relative_to(root)))
    found += _pg_findings
    assert not found, "plaintext report text at rest after the suite:\n" + "\n".join(sorted(found)[:50])


_pg_findings: list[str] = []


def scan_pg(url: str) -> None:
    """Every row of every table of a test database, as text (bytea decoded too)."""
    import json

    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        tables = [r[0] for r in conn.execute("select tablename from pg_tables where schemaname='public'")]
        for t in tables:
            for (row,) in conn.execute(f'select row_to_json(x)::text from "{t}" x'):
                blob = row.encode()
                for value in json.loads(row).values():
                    if isinstance(value, str) and value.startswith("\\x"):
                        blob += bytes.fromhex(value[2:])
                _pg_findings.extend(scan_for_plaintext(blob, f"postgres {t}"))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """One provisioned instance per backend, shared by the tests of a session."""
    data_dir = tmp_path_factory.mktemp(f"inst-{request.param}")
    if request.param == "sqlite":
        return provision(data_dir, f"sqlite:///{data_dir / 'portal.db'}", "sqlite")
    url = request.getfixturevalue("pg_database")
    return provision(data_dir, url, "postgres")


@pytest.fixture
def app(env: Env):  # type: ignore[no-untyped-def]
    return env.app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


# --- helpers for driving the HTML forms ----------------------------------------------------------


def form_tokens(html: str) -> dict[str, str]:
    out = {}
    for name in ("csrf_token", "pow_challenge", "token"):
        m = re.search(rf'name="{name}" value="([^"]*)"', html)
        if m:
            out[name] = m.group(1)
    return out


def solve_pow(challenge: str) -> str:
    from intake.pow import solve

    bits = int(challenge.split(".")[2])
    return solve(challenge, bits)


# Every report text the suite submits; after the whole run nothing at rest may contain one in clear
# (see _plaintext_scan_after_the_suite).
SUBMITTED: set[str] = set()


def remember(text: Any) -> None:
    if isinstance(text, str) and len(text.strip()) >= 10:
        SUBMITTED.add(text.strip())


def submit_report(client: Any, data: dict[str, Any], files: list[tuple[bytes, str]] | None = None,
                  with_pow: bool = True) -> Any:
    remember(data.get("description"))
    page = client.get("/report").get_data(as_text=True)
    t = form_tokens(page)
    payload: dict[str, Any] = {"csrf_token": t["csrf_token"], "pow_challenge": t["pow_challenge"]}
    if with_pow:
        payload["pow_nonce"] = solve_pow(t["pow_challenge"])
    payload.update(data)
    if files:
        import io

        payload["attachments"] = [(io.BytesIO(b), n) for b, n in files]
    return client.post("/report", data=payload, content_type="multipart/form-data")


def receipt_of(html: str) -> str:
    m = re.search(r'id="receipt-code">([^<]+)<', html)
    assert m, "no receipt on page"
    return m.group(1)


def number_of(html: str) -> str:
    m = re.search(r'id="report-number">([^<]+)<', html)
    assert m, "no report number on page"
    return m.group(1)


def login(client: Any, receipt: str) -> Any:
    page = client.get("/follow-up").get_data(as_text=True)
    t = form_tokens(page)
    return client.post("/follow-up", data={"csrf_token": t["csrf_token"], "pow_challenge": t["pow_challenge"],
                                           "pow_nonce": solve_pow(t["pow_challenge"]), "receipt": receipt})


def jpeg_with_exif(marker: str = "CANARY-EXIF", size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying identifying EXIF (camera, serial, GPS) to check it is stripped."""
    import io

    from PIL import Image

    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanaryMaker"  # Make
    exif[0x0110] = marker  # Model
    exif[0xA431] = marker + "-SERIAL"  # BodySerialNumber
    exif[0x013B] = marker + "-ARTIST"  # Artist
    gps = {1: "N", 2: (34.0, 1.0, 2.0), 3: "E", 4: (113.0, 49.0, 1.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf_with_author(marker: str = "CANARY-AUTHOR") -> bytes:
    import io

    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_metadata({"/Author": marker, "/Creator": marker + "-CREATOR", "/Title": marker + "-TITLE"})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def manual_routing(text: str, **kw: Any):  # type: ignore[no-untyped-def]
    import triage

    return triage.TriageResult(department=None, confidence=0.0, needs_review=True, reasons=["测试：人工分派"])


@pytest.fixture(autouse=True)
def _deterministic_triage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake and portal tests route to the coordinating office unless marked ``real_triage``:
    they test encryption and HTTP, not the model (tests/triage covers that)."""
    if request.node.get_closest_marker("real_triage") or "tests/triage" in str(request.node.fspath):
        return
    import triage

    monkeypatch.setattr(triage, "route", manual_routing)
