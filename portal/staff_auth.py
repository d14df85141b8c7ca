"""Staff login pages: password → (new password) → (TOTP enrolment) → TOTP code → workbench."""

from __future__ import annotations

import io

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from accounts import auth
from portal import get_db, state, throttle
from portal.staff_session import STAGE_ENDPOINTS, clear_cookie, current_session, set_cookie

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")


def _next(stage: str) -> str:
    return url_for(STAGE_ENDPOINTS[stage]) if stage in STAGE_ENDPOINTS else url_for("staff.home")


@bp.get("/login")
def login() -> str:
    return render_template("staff/login.html", errors={}, username="")


@bp.post("/login")
def login_submit() -> Response | tuple[str, int]:
    username = request.form.get("username", "")
    if not throttle.test("LOGIN_FAIL") or not throttle.test("LOGIN_FAIL_GLOBAL", throttle.GLOBAL):
        return render_template("staff/login.html", errors={"password": "登录失败次数过多，请10分钟后再试。"}, username=username), 429
    try:
        step = auth.login(get_db(), state().audit_key, username, request.form.get("password", ""))
    except auth.LoginError as exc:
        throttle.hit("LOGIN_FAIL")
        throttle.hit("LOGIN_FAIL_GLOBAL", throttle.GLOBAL)
        return render_template("staff/login.html", errors={exc.field or "form": exc.message}, username=username), 401
    return set_cookie(redirect(_next(step.stage)), step.token)  # type: ignore[arg-type]


def _in_stage(*stages: str):  # type: ignore[no-untyped-def]
    s = current_session()
    if s is None or s.row.stage not in stages:
        return None
    return s


@bp.route("/login/password", methods=["GET", "POST"])
def password() -> Response | tuple[str, int] | str:
    s = _in_stage("password")
    if s is None:
        return redirect(url_for("staff_auth.login"))  # type: ignore[return-value]
    if request.method == "GET":
        return render_template("staff/password.html", errors={})
    try:
        stage = auth.change_password(get_db(), state().audit_key, s, request.form.get("new_password", ""),
                                     request.form.get("confirm", ""))
    except auth.LoginError as exc:
        return render_template("staff/password.html", errors={exc.field or "form": exc.message}), 400
    return redirect(_next(stage))  # type: ignore[return-value]


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol() -> Response | tuple[str, int] | str:
    s = _in_stage("enrol")
    if s is None:
        return redirect(url_for("staff_auth.login"))  # type: ignore[return-value]
    secret = auth.enrolment_secret(get_db(), s)
    uri = auth.provisioning_uri(secret, s.user.username)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            auth.verify_code(get_db(), state().audit_key, s, request.form.get("code", ""))
            return redirect(url_for("staff.home"))  # type: ignore[return-value]
        except auth.LoginError as exc:
            errors = {exc.field or "form": exc.message}
    return render_template("staff/enrol.html", errors=errors, secret=secret, qr=_qr_svg(uri)), 400 if errors else 200


def _qr_svg(uri: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True, nl=False)
    return out.getvalue().decode()


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Response | tuple[str, int] | str:
    s = _in_stage("totp")
    if s is None:
        return redirect(url_for("staff_auth.login"))  # type: ignore[return-value]
    if request.method == "GET":
        return render_template("staff/code.html", errors={})
    try:
        auth.verify_code(get_db(), state().audit_key, s, request.form.get("code", ""))
    except auth.LoginError as exc:
        return render_template("staff/code.html", errors={exc.field or "form": exc.message}), 401
    return redirect(url_for("staff.home"))  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    s = current_session()
    if s is not None:
        auth.logout(get_db(), state().audit_key, s)
    resp = make_response(redirect(url_for("staff_auth.login")))
    return clear_cookie(resp)
