"""Staff sessions on the Flask side: the cookie, the per-request context, role guards.

The cookie ``aqjb_staff`` holds only a random token (HttpOnly, SameSite=Strict, Secure in
production, path /staff); everything else is server-side (see accounts.auth).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, g, redirect, request, url_for

from accounts import auth
from cases.desk import Desk, StaffContext
from portal import get_db, state

COOKIE = "aqjb_staff"
STAGE_ENDPOINTS = {"password": "staff_auth.password", "enrol": "staff_auth.enrol", "totp": "staff_auth.code"}
F = TypeVar("F", bound=Callable[..., Any])


def set_cookie(resp: Response, token: str) -> Response:
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=state().settings.secure_cookies,
                    path="/staff")
    return resp


def clear_cookie(resp: Response) -> Response:
    resp.delete_cookie(COOKIE, path="/staff")
    return resp


def current_session() -> auth.Session_ | None:
    if "staff_session" not in g:
        g.staff_session = auth.load(get_db(), request.cookies.get(COOKIE))
        if g.staff_session is not None:
            get_db().commit()
    return g.staff_session  # type: ignore[no-any-return]


def staff() -> StaffContext:
    return g.staff  # type: ignore[no-any-return]


def staff_required(*roles: str) -> Callable[[F], F]:
    """Only an active session may pass; a wrong role gets 403, a half-done login is sent to its step."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            s = current_session()
            if s is None:
                return redirect(url_for("staff_auth.login"))
            if s.row.stage != "active":
                return redirect(url_for(STAGE_ENDPOINTS[s.row.stage]))
            g.staff = auth.staff_context(get_db(), s)
            if roles and g.staff.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def desk() -> Desk:
    s = state()
    return Desk(db=get_db(), staff=staff(), audit_key=s.audit_key)
