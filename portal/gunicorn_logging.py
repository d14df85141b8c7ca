"""A gunicorn logger that never writes a client address.

Our access-log format already omits it, but gunicorn's error log names the peer on malformed
requests ("Invalid request from ip=…"); this filter redacts IPv4/IPv6 addresses from every record
except the listening address printed at start-up.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from gunicorn.glogging import Logger

_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]{2,}")


def redact(text: str) -> str:
    """Replace every token that parses as an IPv4/IPv6 address (clock times do not)."""

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        for core in (token, token.rstrip(":."), token.strip(":.")):
            try:
                ipaddress.ip_address(core)
            except ValueError:
                continue
            return token.replace(core, "[addr]", 1)
        return token

    return _CANDIDATE.sub(sub, text)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "Listening at:" not in msg:
            record.msg, record.args = redact(msg), None
        return True


class RedactingLogger(Logger):
    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(_Redact())
