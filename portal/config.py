"""Configuration from the environment, read once at start-up.

| variable | default | meaning |
|---|---|---|
| PORTAL_DATA_DIR | ./instance | keys, encrypted files, SQLite database, logs |
| DATABASE_URL | sqlite:///<data dir>/portal.db | SQLAlchemy URL (postgresql+psycopg://… in production) |
| REDIS_URL | (none) | rate-limit storage shared by workers; in-process memory if unset |
| PORTAL_POW_BITS | 18 | proof-of-work difficulty (0 disables the work, not the replay check) |
| PORTAL_SECURE_COOKIES | 1 | mark cookies Secure (set 0 only for plain-http local demos) |
| PORTAL_TRUSTED_PROXIES | 0 | number of reverse proxies whose X-Forwarded-For is trusted |
| PORTAL_LIMIT_* | see LIMIT_DEFAULTS | rate limits (``limits`` notation, e.g. "20/hour") |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIMIT_DEFAULTS: dict[str, str] = {
    # per source (a keyed hash of the client address, never the address itself)
    "SUBMIT_POW": "20/hour",
    "SUBMIT_NOPOW": "5/hour",  # browsers without JavaScript: no proof-of-work, stricter limit
    "LOGIN_FAIL": "10/10minutes",
    "LOGIN_NOPOW": "20/hour",
    "UPLOAD": "30/hour",
    "MESSAGE": "60/hour",
    # whole instance
    "SUBMIT_GLOBAL": "3000/hour",
    "LOGIN_FAIL_GLOBAL": "600/hour",
    "ANY_REQUEST": "300/minute",
}


@dataclass
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    pow_bits: int = 18
    secure_cookies: bool = True
    trusted_proxies: int = 0
    limits: dict[str, str] = field(default_factory=lambda: dict(LIMIT_DEFAULTS))
    limiter_prefix: str = "aqjb"
    testing: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        env = os.environ
        data_dir = Path(overrides.pop("data_dir", None) or env.get("PORTAL_DATA_DIR") or "instance").resolve()
        db_url = overrides.pop("database_url", None) or env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}"
        if db_url.startswith("postgres://"):
            db_url = "postgresql+psycopg://" + db_url[len("postgres://") :]
        elif db_url.startswith("postgresql://"):
            db_url = "postgresql+psycopg://" + db_url[len("postgresql://") :]
        limits = dict(LIMIT_DEFAULTS)
        for name in LIMIT_DEFAULTS:
            if f"PORTAL_LIMIT_{name}" in env:
                limits[name] = env[f"PORTAL_LIMIT_{name}"]
        limits.update(overrides.pop("limits", {}))
        settings = cls(
            data_dir=data_dir,
            database_url=db_url,
            redis_url=env.get("REDIS_URL") or None,
            pow_bits=int(env.get("PORTAL_POW_BITS", "18")),
            secure_cookies=env.get("PORTAL_SECURE_COOKIES", "1") != "0",
            trusted_proxies=int(env.get("PORTAL_TRUSTED_PROXIES", "0")),
            limits=limits,
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        return settings
