from portal.gunicorn_logging import redact


def test_addresses_are_redacted_and_times_kept() -> None:
    assert redact("Invalid request from ip=203.0.113.7: bad") == "Invalid request from ip=[addr]: bad"
    assert redact("peer 2001:db8::1 closed, also ::1") == "peer [addr] closed, also [addr]"
    assert redact("[2026-11-22 08:46:07 +0000] GET /api/v1/meta 200") == "[2026-11-22 08:46:07 +0000] GET /api/v1/meta 200"
    assert redact("deadbeef cafe") == "deadbeef cafe"
