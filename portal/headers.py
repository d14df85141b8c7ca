"""Security headers on every response, set by the app itself (not left to the proxy)."""

from __future__ import annotations

from flask import Response, request

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "worker-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def apply(resp: Response) -> Response:
    h = resp.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.is_secure:
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # only the aggregate public transparency page marks itself cacheable (no cookie, no per-user data)
    if not request.path.startswith("/static/") and not (request.path == "/transparency" and "Set-Cookie" not in h):
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    h.pop("Server", None)
    return resp
