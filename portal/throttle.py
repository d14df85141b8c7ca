"""Rate limits keyed without storing client addresses.

The source key is HMAC-SHA256(instance MAC key, client address), truncated: the limiter's storage
(Redis in production) never sees an address, and the key cannot be reversed without the MAC key.
Limits are checked explicitly where the rule depends on the request (with or without
proof-of-work, failed logins only), so the view can answer with a Chinese message at the form.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from flask_limiter import Limiter
from limits import parse

GLOBAL = "global"


def source_key() -> str:
    mac_key: bytes = current_app.extensions["aqjb"].secrets.mac_key
    addr = (request.remote_addr or "unknown").encode()
    return hmac.new(mac_key, b"source|" + addr, hashlib.sha256).hexdigest()[:24]


limiter = Limiter(key_func=source_key, headers_enabled=False, strategy="moving-window")


def _item(name: str):  # type: ignore[no-untyped-def]
    return parse(current_app.extensions["aqjb"].settings.limits[name])


def _ns() -> str:
    return current_app.extensions["aqjb"].settings.limiter_prefix


def hit(name: str, scope: str | None = None) -> bool:
    """Count one event against limit ``name`` for this source (or ``scope``); False if over."""
    return limiter.limiter.hit(_item(name), _ns(), name, scope or source_key())


def test(name: str, scope: str | None = None) -> bool:
    """Whether one more event would be allowed, without counting it."""
    return limiter.limiter.test(_item(name), _ns(), name, scope or source_key())
