"""The deployment files in deploy/ stay true to the code: nginx logs no client address and lets an
upload of the size the portal accepts through; every portal command the unit and cron lines run
exists; the example environment names only variables the portal reads."""

from __future__ import annotations

import re
from pathlib import Path

from secure_store.sanitize import MAX_FILE_BYTES

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_nginx_logs_no_address_and_passes_the_largest_upload() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for line in conf.splitlines():
        if "log_format" in line:
            assert "remote_addr" not in line and "http_user_agent" not in line and "http_referer" not in line
    assert "combined" not in conf and "access_log off" not in conf.split("location /static/")[0]
    size = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))  # type: ignore[union-attr]
    assert size * 1024 * 1024 >= MAX_FILE_BYTES
    assert "proxy_request_buffering off" in conf  # gunicorn encrypts while parsing; nginx must not spool plaintext


def test_every_command_in_the_unit_and_cron_exists() -> None:
    from portal.cli import main

    text = (DEPLOY / "anquan-jubao.service").read_text() + (DEPLOY / "anquan-jubao.cron").read_text()
    commands = set(re.findall(r"-m portal ([a-z-]+)", text))
    assert {"doctor", "serve", "escalate", "cleanup", "purge", "backup"} <= commands
    for cmd in commands:
        try:
            main([cmd, "--help"])
        except SystemExit as exc:
            assert exc.code == 0, cmd


def test_example_environment_names_real_settings() -> None:
    names = re.findall(r"^#?\s*([A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.M)
    known = (Path(__file__).resolve().parents[1] / "portal" / "config.py").read_text() + \
        (Path(__file__).resolve().parents[1] / "portal" / "cli.py").read_text() + \
        (Path(__file__).resolve().parents[1] / "cases" / "retention.py").read_text()
    from cases.retention import DEFAULT_DAYS

    for name in names:
        if name.startswith("PORTAL_RETENTION_DAYS_"):
            assert name[len("PORTAL_RETENTION_DAYS_"):].lower() in DEFAULT_DAYS, name
        else:
            assert name in known, name
